#!/bin/sh
# Builds this plugin to <dir>/<name>.wasm; see sdk/assemblyscript/build-plugin.sh.
exec "$(dirname "$0")/../../../sdk/assemblyscript/build-plugin.sh" "$(dirname "$0")"
