#!/bin/sh
# Runs the C SDK's unit tests natively (clang or $CC), against the fake
# host of fakehost.c. The raw imports' wasm attributes mean nothing there.
set -e
here=$(cd "$(dirname "$0")" && pwd -P)
out=$(mktemp "${TMPDIR:-/tmp}/warden-c-test.XXXXXX")
trap 'rm -f "$out"' EXIT
${CC:-clang} -std=c11 -O1 -g -Wall -Wextra -Werror -Wno-unknown-attributes \
	-I "$here/.." -I "$here" -o "$out" "$here/http_test.c" "$here/fakehost.c"
"$out"
