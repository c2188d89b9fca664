#!/bin/sh
# build-plugin.sh SRC OUT builds the one-file C plugin SRC with clang and
# wasi-libc (Debian: clang lld wasi-libc libclang-rt-14-dev-wasm32) to the
# WebAssembly reactor OUT, and checks it against the ABI. CC overrides clang.
#
# Compile and link are separate steps on purpose: when the link command has
# an -O flag and binaryen's wasm-opt is on PATH, clang runs wasm-opt on the
# result, so the bytes would depend on whether binaryen is installed. The
# build is reproducible: the compile runs in SRC's directory with a relative
# file name (__FILE__, used by assert, is "name.c"), there is no debug
# information (--strip-debug also drops wasi-libc's), and
# -ffile-prefix-map removes the checkout path from anything else.
set -eu

src_dir=$(cd "$(dirname "$1")" && pwd -P)
src=$(basename "$1")
case $2 in
/*) out=$2 ;;
*) out=$(pwd -P)/$2 ;;
esac
sdk=$(cd "$(dirname "$0")" && pwd -P)
root=$(cd "$sdk/../.." && pwd -P)
cc=${CC:-clang}
obj=$(mktemp "${TMPDIR:-/tmp}/warden-c.XXXXXX")
trap 'rm -f "$obj"' EXIT

cd "$src_dir"
# -mbulk-memory makes memcpy and memset single instructions instead of
# loops, which the host's deadline checks would tax at every back-edge.
"$cc" --target=wasm32-wasi -O2 -mbulk-memory -std=c11 -Wall -Wextra -Werror \
	-ffile-prefix-map="$root"/= -I "$sdk" -c -o "$obj" "$src"
"$cc" --target=wasm32-wasi -mexec-model=reactor -Wl,--strip-debug -o "$out" "$obj"

sh "$root/scripts/check-plugin.sh" "$out" "$root" "warden_v1 wasi_snapshot_preview1" "memory _initialize warden_abi_v1 warden_init warden_handle"
