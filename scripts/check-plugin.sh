#!/bin/sh
# check-plugin.sh WASM ROOT MODULES EXPORTS checks a plugin that a build
# script just wrote, before it is committed: it imports only from MODULES
# (space-separated), exports every name in EXPORTS, has no start section,
# and does not contain the checkout path ROOT (which would make builds
# differ between checkouts). Then it prints "built <path> (<size> bytes)".
# The host checks imports and exports again at load; failing here names the
# build that broke them.
set -eu
out=$1
root=$2
modules=$3
exports=$4
fail() {
	echo "check-plugin.sh: $out: $*" >&2
	exit 1
}
if grep -q -F "$root" "$out"; then
	fail "contains the checkout path $root"
fi
if command -v wasm-objdump >/dev/null 2>&1; then
	objdump=$(wasm-objdump -x "$out")
	bad=$(printf '%s\n' "$objdump" | sed -n 's/.* <- \([^.]*\)\..*/\1/p' | sort -u |
		while read -r m; do case " $modules " in *" $m "*) ;; *) printf '%s ' "$m" ;; esac; done)
	[ -z "$bad" ] || fail "imports from modules other than $modules: $bad"
	for e in $exports; do
		printf '%s\n' "$objdump" | grep -q -F -e "-> \"$e\"" || fail "does not export $e"
	done
	if printf '%s\n' "$objdump" | grep -q '^Start'; then
		fail "has a start section, which would run before the host sets up a call"
	fi
fi
echo "built ${out#"$root"/} ($(wc -c <"$out") bytes)"
