package host

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// abuses are what a hostile plugin does to the host while another plugin
// serves: loop until the deadline, trap on every call, grow memory to its
// cap.
var abuses = []struct{ name, rpc string }{
	{"none", ""},
	{"busy", "echo"}, // well-behaved, as busy: what sharing the CPU costs
	{"loop", "loop"},
	{"trap", "trap"},
	{"memory", "grow"},
}

// isolationHost serves the hostile plugin beside the Rust seed plugin.
func isolationHost(tb testing.TB) *Host {
	return newTestHost(tb, pluginDir(tb, "hostile.wasm", "../../plugins/seed/seed.wasm"), func(c *Config) {
		c.Logger = zerolog.Nop()
		c.CallTimeout = 200 * time.Millisecond
		c.MaxMemoryPages = 256
	})
}

// abuse runs workers goroutines that call the hostile rpc until stop is
// closed; it returns a function that waits for them.
func abuse(h *Host, rpc string, workers int, stop <-chan struct{}) func() {
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = h.Call(context.Background(), &Request{ID: rpc})
			}
		}()
	}
	return wg.Wait
}

// p99 returns the 99th percentile of n sequential calls of the seed
// plugin's server_rpc.
func p99(tb testing.TB, h *Host, n int) time.Duration {
	lat := make([]time.Duration, n)
	req := &Request{ID: "server_rpc"}
	for i := range lat {
		start := time.Now()
		if _, err := h.Call(context.Background(), req); err != nil {
			tb.Fatal(err)
		}
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	return lat[n*99/100]
}

// BenchmarkHost_isolation measures another plugin's p99 latency while a
// hostile plugin abuses the host from one goroutine (a core's worth of
// abuse) and from two. It reports p99-µs per abuse.
func BenchmarkHost_isolation(b *testing.B) {
	for _, a := range abuses {
		for _, workers := range []int{1, 2} {
			if a.rpc == "" && workers > 1 {
				continue
			}
			b.Run(fmt.Sprintf("%s/abusers=%d", a.name, workers), func(b *testing.B) {
				h := isolationHost(b)
				stop := make(chan struct{})
				wait := func() {}
				if a.rpc != "" {
					wait = abuse(h, a.rpc, workers, stop)
				}
				b.ResetTimer()
				d := p99(b, h, max(b.N, 100))
				b.StopTimer()
				close(stop)
				wait()
				b.ReportMetric(float64(d.Microseconds()), "p99-µs")
			})
		}
	}
}

// TestHost_isolation asserts, loosely, that abuse by one plugin does not
// starve another: the victim's p99 under each abuse stays within 10× its
// p99 without abuse, plus 5 ms (the benchmark gives the real figures).
func TestHost_isolation(t *testing.T) {
	h := isolationHost(t)
	base := p99(t, h, 300)
	for _, a := range abuses[1:] {
		t.Run(a.name, func(t *testing.T) {
			stop := make(chan struct{})
			wait := abuse(h, a.rpc, runtime.GOMAXPROCS(0), stop)
			got := p99(t, h, 300)
			close(stop)
			wait()
			t.Logf("p99 %s under %s abuse, %s without", got, a.name, base)
			if limit := 10*base + 5*time.Millisecond; got > limit {
				t.Fatalf("p99 %s under %s abuse, over %s", got, a.name, limit)
			}
		})
	}
}

// TestBenchmarkHost_isolation runs the benchmark once, so that it cannot rot.
func TestBenchmarkHost_isolation(t *testing.T) {
	if res := benchOnce(t, BenchmarkHost_isolation); res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}
