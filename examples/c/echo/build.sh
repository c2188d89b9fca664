#!/bin/sh
# Builds this plugin to echo.wasm (committed); see sdk/c/build-plugin.sh.
here=$(cd "$(dirname "$0")" && pwd -P)
exec "$here/../../../sdk/c/build-plugin.sh" "$here/echo.c" "$here/echo.wasm"
