#!/bin/sh
# Runs the C SDK's unit tests natively (clang or $CC). http_test.c runs
# against the shared fake host of fakehost.c; tx_test.c carries its own. The
# raw imports' wasm attributes mean nothing there.
set -e
here=$(cd "$(dirname "$0")" && pwd -P)
out=$(mktemp "${TMPDIR:-/tmp}/warden-c-test.XXXXXX")
trap 'rm -f "$out"' EXIT
cc=${CC:-clang}
flags="-std=c11 -O1 -g -Wall -Wextra -Werror -Wno-unknown-attributes -Wno-attributes -Wno-unknown-warning-option"
$cc $flags -I "$here/.." -I "$here" -o "$out" "$here/http_test.c" "$here/fakehost.c"
"$out"
$cc $flags -I "$here/.." -o "$out" "$here/tx_test.c"
"$out"
