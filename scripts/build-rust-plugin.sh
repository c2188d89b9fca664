#!/bin/sh
# build-rust-plugin.sh DIR builds the Rust plugin crate in DIR, a member of
# the Cargo workspace at the repository root, for wasm32-unknown-unknown,
# and copies the module to DIR/<name>.wasm. <name> is the directory's name,
# which is also the crate's name.
#
# The toolchain is Debian's Rust 1.63 in /usr/bin, because the rustup
# toolchain on PATH has no wasm target; WARDEN_CARGO and WARDEN_RUSTC
# override it. The build needs no network: the SDK is a path dependency.
#
# Builds are reproducible across checkout directories (CI rebuilds and
# compares with the committed .wasm) because the workspace makes cargo pass
# rustc source paths relative to the root, and hash the SDK's package id by
# its relative path. --remap-path-prefix alone was not enough when each
# plugin was its own workspace: cargo then hashed the SDK's absolute path
# into its -C metadata, which changes symbol names and, through them, the
# order of functions and data. The build fails if the checkout path shows
# up in the module.
set -eu

dir=$(cd "$1" && pwd -P)
root=$(cd "$(dirname "$0")/.." && pwd -P)
name=$(basename "$dir")
lib=$(printf '%s' "$name" | tr - _)

export RUSTC="${WARDEN_RUSTC:-/usr/bin/rustc}"
# RUSTFLAGS replaces build.rustflags from any cargo config file, so only
# this reaches rustc. A 64 KiB stack (default 1 MiB) keeps memory small;
# bulk-memory turns memcpy/memset into single instructions instead of byte
# loops, which matters because the deadline check taxes every loop back-edge.
export RUSTFLAGS="-C link-arg=-zstack-size=65536 -C target-feature=+bulk-memory"
export CARGO_TARGET_DIR="$dir/target"
unset CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER

cd "$root"
"${WARDEN_CARGO:-/usr/bin/cargo}" build --release --offline --locked --quiet \
	--target wasm32-unknown-unknown --package "$name"
out="$dir/$name.wasm"
cp "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/$lib.wasm" "$out"
sh "$root/scripts/check-plugin.sh" "$out" "$root" "warden_v1 wasi_snapshot_preview1" "memory warden_abi_v1 warden_init warden_handle"
