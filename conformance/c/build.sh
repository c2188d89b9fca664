#!/bin/sh
# Builds this plugin to conformance.wasm (committed); see sdk/c/build-plugin.sh.
here=$(cd "$(dirname "$0")" && pwd -P)
exec "$here/../../sdk/c/build-plugin.sh" "$here/conformance.c" "$here/conformance.wasm"
