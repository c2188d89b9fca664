#!/bin/sh
# Builds this plugin to guard.wasm (committed); see sdk/c/build-plugin.sh.
here=$(cd "$(dirname "$0")" && pwd -P)
exec "$here/../../../sdk/c/build-plugin.sh" "$here/guard.c" "$here/guard.wasm"
