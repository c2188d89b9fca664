#!/bin/sh
# Builds this plugin to <dir>/<name>.wasm; see scripts/build-rust-plugin.sh.
exec "$(dirname "$0")/../../../scripts/build-rust-plugin.sh" "$(dirname "$0")"
