#!/bin/sh
# Builds this plugin to conformance/rust/conformance.wasm with
# scripts/build-rust-plugin.sh. That script names the crate and the module
# after the directory it is given, and this directory is named after the
# language, so it is given the parent, conformance/, whose name is the
# crate's: the module is built there (target in conformance/target) and
# moved here.
set -eu
here=$(cd "$(dirname "$0")" && pwd -P)
"$here/../../scripts/build-rust-plugin.sh" "$here/.." >/dev/null
mv "$here/../conformance.wasm" "$here/conformance.wasm"
echo "built conformance/rust/conformance.wasm ($(wc -c <"$here/conformance.wasm") bytes)"
