package host

import (
	"bytes"
	"context"
	"testing"

	"github.com/rs/zerolog"
)

// benchmarkEcho calls rpc "echo" of the plugin in dir with a 1 KiB payload,
// from parallel goroutines, without HTTP.
func benchmarkEcho(b *testing.B, h *Host) {
	payload := bytes.Repeat([]byte("x"), 1024)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := &Request{ID: "echo", Payload: payload}
		for pb.Next() {
			res, err := h.Call(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			if len(res.Output) != len(payload) {
				b.Fatalf("echo returned %d bytes", len(res.Output))
			}
		}
	})
}

// BenchmarkHost_Call measures one echo RPC with a 1 KiB payload through the
// host (pool, call state, host functions, deadline), without HTTP, for each
// plugin language.
func BenchmarkHost_Call(b *testing.B) {
	for _, bc := range []struct{ name, fixture string }{
		{"wat", "hostile.wasm"},
		{"rust", "../../plugins/echo/echo.wasm"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := newTestHost(b, pluginDir(b, bc.fixture), func(c *Config) { c.Logger = zerolog.Nop() })
			benchmarkEcho(b, h)
		})
	}
}

// TestBenchmarkHost_Call runs the benchmark once, so that it cannot rot.
func TestBenchmarkHost_Call(t *testing.T) {
	res := testing.Benchmark(BenchmarkHost_Call)
	if res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}
