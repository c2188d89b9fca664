#!/bin/sh
# build-plugin.sh DIR [NAME] builds the AssemblyScript plugin project in DIR
# to DIR/NAME.wasm; NAME defaults to the directory's name. A project is a
# package.json and package-lock.json that pin assemblyscript and link
# warden-sdk, an asconfig.json that extends warden-sdk/asconfig.json and
# names NAME.wasm as its outFile, and assembly/index.ts.
#
# It installs exactly what package-lock.json pins (npm ci) when node_modules
# is missing or older than the lock file, so the first build needs the npm
# registry or its cache, and later builds need neither.
#
# Builds are reproducible across checkout directories: the compiler names
# source files by their path inside the project ("assembly/index.ts") and
# inside node_modules ("~lib/warden-sdk/..."), never by an absolute path.
# The build fails if the checkout path shows up in the module anyway, or if
# the module imports anything but warden_v1 or lacks an ABI export.
set -eu

dir=$(cd "$1" && pwd -P)
name=${2:-$(basename "$dir")}
root=$(cd "$(dirname "$0")/../.." && pwd -P)
out="$dir/$name.wasm"
fail() {
	echo "build-plugin.sh: $out: $*" >&2
	exit 1
}

cd "$dir"
if [ ! -x node_modules/.bin/asc ] || [ ! -e node_modules/warden-sdk/asconfig.json ] ||
	[ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
node_modules/.bin/asc --config asconfig.json
[ -f "$out" ] || fail "not written: asconfig.json must set outFile to $name.wasm"

sh "$root/scripts/check-plugin.sh" "$out" "$root" "warden_v1 wasi_snapshot_preview1" "memory warden_abi_v1 warden_init warden_handle _initialize"
