# Each plugins/<name>/build.sh rebuilds the committed plugins/<name>/<name>.wasm
# (Rust plugins with Debian's Rust 1.63: scripts/build-rust-plugin.sh). CI runs
# plugins-check to catch a .wasm that drifted from its sources.

.PHONY: plugins fixtures plugins-check test bench

# Every directory with a build.sh that makes a committed .wasm.
BUILDS = $(wildcard plugins/*/build.sh examples/*/*/build.sh conformance/*/build.sh)
WASM_DIRS = plugins examples conformance host/testdata cmd/server/testdata tests/floor

## plugins: rebuild every plugin, example and conformance plugin with its
## build.sh, and the hand-written WAT test fixtures.
plugins: fixtures
	@set -e; for b in $(BUILDS); do sh "$$b"; done

## fixtures: rebuild host/testdata/**/*.wasm, the attack plugins of
## cmd/server/testdata/attacks and tests/floor's guest from their .wat
## sources (wabt).
fixtures:
	@set -e; for w in host/testdata/*.wat host/testdata/*/*.wat cmd/server/testdata/attacks/*.wat tests/floor/*.wat; do wat2wasm "$$w" -o "$${w%.wat}.wasm"; done

## plugins-check: fail when a rebuilt plugin differs from the committed one.
plugins-check: plugins
	@git diff --exit-code --stat -- $(WASM_DIRS) || \
		{ echo "plugins-check: a rebuilt .wasm differs from git: commit the sources and the .wasm that make plugins rebuilt" >&2; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- $(foreach d,$(WASM_DIRS),'$(d)/*.wasm')); \
	if [ -n "$$untracked" ]; then \
		echo "plugins-check: untracked .wasm files: $$untracked" >&2; exit 1; \
	fi

## test: the README's test command.
test:
	go test -race ./...

## bench: Go benchmarks once each, then the HTTP load test (needs wrk).
bench:
	go test -run '^$$' -bench . -benchtime 2s ./host ./httpapi ./storage
	scripts/bench-http 5s 32
