#!/bin/sh
# Builds the conformance plugin to <dir>/conformance.wasm; see sdk/assemblyscript/build-plugin.sh.
exec "$(dirname "$0")/../../sdk/assemblyscript/build-plugin.sh" "$(dirname "$0")" conformance
