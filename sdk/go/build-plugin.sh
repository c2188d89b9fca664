#!/bin/sh
# build-plugin.sh DIR OUT builds the Go plugin whose main package is in DIR
# (a module that requires github.com/warden-rpc/warden/sdk/go) to the
# WebAssembly module OUT, and checks it against the ABI.
#
# The build is reproducible: -trimpath drops the checkout path, and
# -buildvcs=false keeps the commit out of the module, so the same sources
# and Go version give the same bytes in any directory. GOFLAGS and the
# like are cleared so that the caller's environment cannot change the
# result; GOTOOLCHAIN=local uses the Go on PATH and downloads nothing.
set -eu

dir=$(cd "$1" && pwd -P)
case $2 in
/*) out=$2 ;;
*) out=$(pwd -P)/$2 ;;
esac

unset GOFLAGS GOWASM GOEXPERIMENT GOAMD64 CGO_ENABLED GOARCH GOOS
cd "$dir"
# go build leaves an output it thinks is up to date (by its build id) as it
# is; tablemax below keeps the build id, so start from no file at all.
rm -f "$out"
GOOS=wasip1 GOARCH=wasm GOTOOLCHAIN=local \
	go build -trimpath -buildvcs=false -buildmode=c-shared -o "$out" .
# The Go linker declares its function table with no maximum, which Warden
# refuses (abi.MaxTableElements); tablemax sets the maximum to the minimum.
sdk=$(cd "$(dirname "$0")" && pwd -P)
(cd "$sdk" && GOTOOLCHAIN=local go run ./cmd/tablemax "$out")

root=$(cd "$(dirname "$0")/../.." && pwd -P)
sh "$root/scripts/check-plugin.sh" "$out" "$root" "warden_v1 wasi_snapshot_preview1" "memory _initialize warden_abi_v1 warden_init warden_handle"
