#!/bin/sh
# Builds this plugin to guard.wasm (committed); see sdk/go/build-plugin.sh.
here=$(cd "$(dirname "$0")" && pwd -P)
exec "$here/../../../sdk/go/build-plugin.sh" "$here" "$here/guard.wasm"
