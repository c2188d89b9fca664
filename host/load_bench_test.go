package host

import (
	"context"
	"os"
	"path/filepath"
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

// BenchmarkHost_prepare measures what a load does with the committed
// plugins' bytes (plugins/*/*.wasm, all of them per iteration) before
// wazero compiles them: the module limit check and the rewrite.
func BenchmarkHost_prepare(b *testing.B) {
	files, err := filepath.Glob("../plugins/*/*.wasm")
	if err != nil || len(files) == 0 {
		b.Fatalf("committed plugins: %v %v", files, err)
	}
	var mods [][]byte
	var size int64
	for _, f := range files {
		wasm, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		mods, size = append(mods, wasm), size+int64(len(wasm))
	}
	b.ReportAllocs()
	b.SetBytes(size)
	for b.Loop() {
		for _, wasm := range mods {
			m, err := readModule(wasm)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := m.Instrument(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestBenchmarkHost_prepare runs the benchmark once, so that it cannot rot.
func TestBenchmarkHost_prepare(t *testing.T) {
	if res := benchOnce(t, BenchmarkHost_prepare); res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}
