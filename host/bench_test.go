package host

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/storage/pg"
	"github.com/warden-rpc/warden/storage/pg/pgtest"
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

// echoPlugins are the echo plugins of each language, relative to testdata.
var echoPlugins = []struct{ name, fixture string }{
	{"wat", "hostile.wasm"},
	{"rust", "../../plugins/echo/echo.wasm"},
	{"assemblyscript", "../../examples/assemblyscript/echo/echo.wasm"},
	{"go", "../../examples/go/echo/echo.wasm"},
	{"c", "../../examples/c/echo/echo.wasm"},
}

// BenchmarkHost_Call measures one echo RPC with a 1 KiB payload through the
// host (pool, call state, host functions, deadline), without HTTP, for each
// plugin language.
func BenchmarkHost_Call(b *testing.B) {
	for _, bc := range echoPlugins {
		b.Run(bc.name, func(b *testing.B) {
			h := newTestHost(b, pluginDir(b, bc.fixture), func(c *Config) { c.Logger = zerolog.Nop() })
			benchmarkEcho(b, h)
		})
	}
}

// TestBenchmarkHost_Call runs the benchmark once, so that it cannot rot.
func TestBenchmarkHost_Call(t *testing.T) {
	res := benchOnce(t, BenchmarkHost_Call)
	if res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}

// BenchmarkPlugin_instance measures making a pooled instance (instantiate,
// _initialize, warden_init) and closing it, per language, and reports what
// one live instance costs: its linear memory, and the Go heap it takes
// (measured over 32 instances).
func BenchmarkPlugin_instance(b *testing.B) {
	for _, bc := range echoPlugins {
		b.Run(bc.name, func(b *testing.B) {
			h := newTestHost(b, pluginDir(b, bc.fixture), func(c *Config) { c.Logger = zerolog.Nop() })
			p := h.Plugins()[0]
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				inst, err := p.newInstance(ctx)
				if err != nil {
					b.Fatal(err)
				}
				inst.close(ctx)
			}
			b.StopTimer()
			const n = 32
			before := heapBytes()
			insts := make([]*instance, n)
			for i := range insts {
				var err error
				if insts[i], err = p.newInstance(ctx); err != nil {
					b.Fatal(err)
				}
			}
			after := heapBytes()
			b.ReportMetric(float64(insts[0].mod.Memory().Size())/1024, "linear-KiB/inst")
			b.ReportMetric(float64(after-before)/n/1024, "heap-KiB/inst")
			for _, inst := range insts {
				inst.close(ctx)
			}
		})
	}
}

// heapBytes returns the Go heap in use after a collection. wazero keeps
// each instance's linear memory on the Go heap, so the difference over a set
// of live instances is what they cost (pages the guest never touched are
// counted, though the OS need not back them).
func heapBytes() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestBenchmarkPlugin_instance runs the benchmark once, so that it cannot rot.
func TestBenchmarkPlugin_instance(t *testing.T) {
	if res := benchOnce(t, BenchmarkPlugin_instance); res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}

// benchOnce runs a benchmark with one iteration per sub-benchmark
// (-benchtime=1x), as CI runs benchmarks, so that a TestBenchmark twin
// checks the benchmark works without timing it.
func benchOnce(t *testing.T, fn func(*testing.B)) testing.BenchmarkResult {
	t.Helper()
	bt := flag.Lookup("test.benchtime")
	old := bt.Value.String()
	if err := bt.Value.Set("1x"); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bt.Value.Set(old) }()
	return testing.Benchmark(fn)
}

// routePlugins are plugins serving the seed's GET /test, relative to testdata.
var routePlugins = []struct{ name, fixture string }{
	{"wat", "web.wasm"},
	{"rust", "../../plugins/seed/seed.wasm"},
	{"assemblyscript", "../../examples/assemblyscript/seed/seed.wasm"},
}

// BenchmarkHost_CallRoute measures one call of the seed's GET /test custom
// HTTP handler through the host, without HTTP, for each plugin language.
func BenchmarkHost_CallRoute(b *testing.B) {
	for _, bc := range routePlugins {
		b.Run(bc.name, func(b *testing.B) {
			h := newTestHost(b, pluginDir(b, bc.fixture), func(c *Config) { c.Logger = zerolog.Nop() })
			routes, _ := h.Routes()
			var route *Route
			for _, r := range routes {
				if r.Pattern == "/test" {
					route = r
				}
			}
			if route == nil {
				b.Fatal("no GET /test route")
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := &Request{HTTP: &HTTPRequest{Method: "GET", Path: "/test", Route: "/test"}}
					res, err := h.CallRoute(ctx, route, req)
					if err != nil {
						b.Fatal(err)
					}
					if string(res.Output) != "You hit the new endpoint!" {
						b.Fatalf("GET /test returned %q", res.Output)
					}
				}
			})
		})
	}
}

// TestBenchmarkHost_CallRoute runs the benchmark once, so that it cannot rot.
func TestBenchmarkHost_CallRoute(t *testing.T) {
	if res := benchOnce(t, BenchmarkHost_CallRoute); res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}

// BenchmarkHost_kvPut measures the kv plugin's kv_put through the host: one
// upsert of a new key in its own transaction on a real SQLite file, from
// parallel goroutines, without HTTP.
func BenchmarkHost_kvPut(b *testing.B) {
	benchmarkKVPut(b, newTestHost(b, pluginDir(b, "../../plugins/kv/kv.wasm"), func(c *Config) { c.Logger = zerolog.Nop() }))
}

// BenchmarkHost_kvPutPostgres is BenchmarkHost_kvPut on PostgreSQL, with
// no bound on the plugin's schema and with the server's default one
// (storage.DefaultMaxPluginDBBytes), which kv_put's upsert, an autocommit
// statement, measures before its commit.
func BenchmarkHost_kvPutPostgres(b *testing.B) {
	pgtest.EachBound(b, func(b *testing.B, maxBytes int64) {
		h := newPostgresHostWith(b, pluginDir(b, "../../plugins/kv/kv.wasm"), pg.Options{MaxBytes: maxBytes},
			func(c *Config) { c.Logger = zerolog.Nop() })
		benchmarkKVPut(b, h)
	})
}

// benchmarkKVPut calls kv_put on h with a new key each time, from
// parallel goroutines.
func benchmarkKVPut(b *testing.B, h *Host) {
	ctx := context.Background()
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // as many callers per core as a loaded server has
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			payload := fmt.Appendf(nil, `{"key":"k%d","value":"v"}`, seq.Add(1))
			res, err := h.Call(ctx, &Request{ID: "kv_put", Payload: payload})
			if err != nil {
				b.Fatal(err)
			}
			if string(res.Output) != "{}" {
				b.Fatalf("kv_put returned %q", res.Output)
			}
		}
	})
}

// TestBenchmarkHost_kvPutPostgres runs the benchmark once, so that it
// cannot rot (skipped without WARDEN_TEST_POSTGRES, as pgtest.URL is).
func TestBenchmarkHost_kvPutPostgres(t *testing.T) {
	_ = pgtest.URL(t)
	if res := benchOnce(t, BenchmarkHost_kvPutPostgres); res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}

// TestBenchmarkHost_kvPut runs the benchmark once, so that it cannot rot.
func TestBenchmarkHost_kvPut(t *testing.T) {
	if res := benchOnce(t, BenchmarkHost_kvPut); res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}
