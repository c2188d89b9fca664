#!/bin/sh
# Builds and runs the C SDK's unit tests natively, against the fake host in
# each test file (the import attributes of warden.h mean nothing there).
set -eu
dir=$(cd "$(dirname "$0")" && pwd -P)
cc=${CC:-cc}
out=$(mktemp "${TMPDIR:-/tmp}/warden-c-test.XXXXXX")
trap 'rm -f "$out"' EXIT
for t in "$dir"/*_test.c; do
	"$cc" -std=c11 -Wall -Wextra -Werror -Wno-attributes -I "$dir/.." -o "$out" "$t"
	"$out"
done
