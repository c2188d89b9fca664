package metrics

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/warden-rpc/warden/abi"
)

// TestMetrics_NoAllocations checks that a request's events allocate
// nothing once their series exist: the cost metrics add to the hot path.
func TestMetrics_NoAllocations(t *testing.T) {
	m := New()
	// The counters the server keeps, as it keeps them: asked for once.
	route, rpcs := m.PluginRoute("/items/:id"), m.Requests("/v2/rpc/*id")
	events := func() {
		m.RequestStarted()
		m.RPCDone("echo", abi.CodeOK, time.Millisecond, 10, 20)
		route.Done(404, time.Millisecond, 0, 5)
		rpcs.Done(200)
		m.GroupCommitted("kv", 3)
	}
	events() // resolves the series
	if n := testing.AllocsPerRun(100, events); n != 0 {
		t.Errorf("%v allocations per request, want 0", n)
	}
}

func TestMetrics_Values(t *testing.T) {
	m := New()
	m.RPCDone("echo", abi.CodeOK, time.Millisecond, 10, 20)
	m.RPCDone("echo", abi.CodeOK, time.Millisecond, 1, 2)
	m.RPCDone("echo", abi.CodeInvalidArgument, time.Millisecond, 1, 0)
	m.RequestStarted()
	m.RequestStarted()
	m.RequestStarted()
	m.Requests("other").Done(999) // a status out of range counts as 0
	// A counter kept by the server and one asked for again are the same
	// series.
	kept := m.Requests("/test")
	kept.Done(200)
	m.Requests("/test").Done(200)
	route := m.PluginRoute("/items/:id")
	route.Done(404, time.Millisecond, 3, 5)
	m.PluginRoute("/items/:id").Done(200, 2*time.Millisecond, 4, 6)
	m.PluginRoute("/never") // kept by the server, never called
	m.PluginReloaded("kv", true)
	m.PluginReloaded("kv", false)
	m.OutboundCall("kv", "api.example.com", 200)
	// A name that is not UTF-8 (a file name may be anything) is counted
	// with its bad bytes replaced; Prometheus's client panicked on it.
	m.PluginReloaded("\xff", false)
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"ok", testutil.ToFloat64(m.rpcReqs.WithLabelValues("echo", "0")), 2},
		{"invalid", testutil.ToFloat64(m.rpcReqs.WithLabelValues("echo", "3")), 1},
		{"in", testutil.ToFloat64(m.rpcIn.WithLabelValues("echo")), 12},
		{"out", testutil.ToFloat64(m.rpcOut.WithLabelValues("echo")), 22},
		{"status0", testutil.ToFloat64(m.httpReqs.WithLabelValues("other", "0")), 1},
		{"kept", testutil.ToFloat64(m.httpReqs.WithLabelValues("/test", "200")), 2},
		{"in flight", gathered(t, m, "warden_http_requests_in_flight"), 0},
		{"route 404", testutil.ToFloat64(m.routeReqs.WithLabelValues("/items/:id", "404")), 1},
		{"route 200", testutil.ToFloat64(m.routeReqs.WithLabelValues("/items/:id", "200")), 1},
		{"route in", testutil.ToFloat64(m.routeIn.WithLabelValues("/items/:id")), 7},
		{"route out", testutil.ToFloat64(m.routeOut.WithLabelValues("/items/:id")), 11},
		{"loaded", testutil.ToFloat64(m.reloads.WithLabelValues("kv", "loaded")), 1},
		{"failed", testutil.ToFloat64(m.reloads.WithLabelValues("kv", "failed")), 1},
		{"outbound", testutil.ToFloat64(m.outbound.WithLabelValues("kv", "api.example.com", "200")), 1},
		{"not UTF-8", testutil.ToFloat64(m.reloads.WithLabelValues("\uFFFD", "failed")), 1},
	}
	// A route that is registered but never called has no series.
	if n := testutil.CollectAndCount(m.routeSeconds); n != 1 {
		t.Errorf("%d route latency series, want 1 (/items/:id only)", n)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

// gathered returns the value of m's metric name, which has no labels.
func gathered(t *testing.T, m *Metrics, name string) float64 {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			if g := mf.GetMetric()[0].GetGauge(); g != nil {
				return g.GetValue()
			}
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

// TestMetrics_keptRoutesHoldNothingUntilCalled attacks the counters the
// server keeps for plugin routes as a hostile plugin would: each of its
// versions registers as many routes as a plugin may, all new patterns, and
// none is ever requested. The server asks for every route's counters when
// it builds the routes, so what a kept counter holds before its first
// request must be nothing per pattern: otherwise each reload of such a
// plugin would leave abi.MaxRoutesPerPlugin route states behind (each a
// table of 600 statuses) for routes no client reached.
func TestMetrics_keptRoutesHoldNothingUntilCalled(t *testing.T) {
	m := New()
	for version := range 4 {
		for i := range abi.MaxRoutesPerPlugin {
			pattern := fmt.Sprintf("/v%d/r%d/:id", version, i)
			m.Requests(pattern)
			m.PluginRoute(pattern)
		}
	}
	held := 0
	m.httpByRt.Range(func(any, any) bool { held++; return true })
	m.routes.Range(func(any, any) bool { held++; return true })
	if held != 0 {
		t.Errorf("%d route states held for %d routes never requested, want 0", held, 4*abi.MaxRoutesPerPlugin)
	}
	if n := testutil.CollectAndCount(m.httpReqs); n != 0 {
		t.Errorf("%d request series for routes never requested, want 0", n)
	}
	// Once requested, a kept counter and one asked for again count into
	// one series, and only the requested route holds state.
	kept := m.Requests("/v0/r1/:id")
	kept.Done(200)
	kept.Done(200)
	m.Requests("/v0/r1/:id").Done(200)
	if got := testutil.ToFloat64(m.httpReqs.WithLabelValues("/v0/r1/:id", "200")); got != 3 {
		t.Errorf("/v0/r1/:id 200 = %v, want 3", got)
	}
	held = 0
	m.httpByRt.Range(func(any, any) bool { held++; return true })
	if held != 1 {
		t.Errorf("%d route states held after one route's requests, want 1", held)
	}
}
