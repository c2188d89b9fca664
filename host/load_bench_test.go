package host

import (
	"context"
	"testing"

	"github.com/rs/zerolog"
)

// BenchmarkHost_load measures loading the largest committed plugin, the Go
// echo example (3 MB), with no compilation cache: reading, instrumenting,
// compiling, validating and the probe instance's init.
func BenchmarkHost_load(b *testing.B) {
	dir := pluginDir(b, "../../examples/go/echo/echo.wasm")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h := newTestHost(b, dir, func(c *Config) { c.Logger, c.CacheDir = zerolog.Nop(), "" })
		if len(h.Plugins()) != 1 {
			b.Fatalf("%d plugins loaded, want 1", len(h.Plugins()))
		}
		_ = h.Close(ctx)
	}
}

// TestBenchmarkHost_load runs the benchmark once, so that it cannot rot.
func TestBenchmarkHost_load(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the Go plugin without a cache")
	}
	if res := benchOnce(t, BenchmarkHost_load); res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}
