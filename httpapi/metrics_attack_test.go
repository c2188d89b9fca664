package httpapi

import (
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/metrics"
)

// TestServer_metricsLabelsAttack attacks the route counters as a hostile
// client would: a flood of distinct values for a plugin route's parameter
// (/items/:id), of paths no route serves, and of calls to a route that
// needs a session, on a server with Prometheus metrics on. The series
// must be labelled by registered patterns and fixed names only, a plugin
// route that is registered but never called must export no series, a
// call refused before the plugin ran counts as a request but not as a
// call, and nothing may stay in flight.
func TestServer_metricsLabelsAttack(t *testing.T) {
	m := metrics.New()
	s, _ := dispatchServerWith(t, Config{Observer: m}, "../host/testdata/web.wasm")
	const n = 40
	for range n {
		id := fmt.Sprintf("x%016x", rand.Uint64())
		if res := do(t, s, "GET", "/items/"+id, nil, ""); res.status != 200 {
			t.Fatalf("GET /items/%s: %d %s", id, res.status, res.body)
		}
		if res := do(t, s, "GET", "/nope/"+id, nil, ""); res.status != 404 {
			t.Fatalf("GET /nope/%s: %d", id, res.status)
		}
		if res := do(t, s, "GET", "/me", nil, ""); res.status != 401 {
			t.Fatalf("GET /me without a session: %d", res.status)
		}
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	got := map[string]string{}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if !strings.HasPrefix(line, "warden_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		got[line[:i]] = line[i+1:]
		if strings.Contains(line, `"/items/x`) || strings.Contains(line, "/nope") {
			t.Errorf("a label value came from a request path: %s", line)
		}
		if strings.Contains(line, `route="/created"`) || strings.Contains(line, `route="/test"`) {
			t.Errorf("a route that was never called has a series: %s", line)
		}
		if strings.HasPrefix(line, "warden_route_") && strings.Contains(line, `route="/me"`) {
			t.Errorf("a call refused before the plugin ran was counted as a call: %s", line)
		}
	}
	want := map[string]string{
		`warden_route_requests_total{route="/items/:id",status="200"}`: fmt.Sprint(n),
		`warden_route_duration_seconds_count{route="/items/:id"}`:      fmt.Sprint(n),
		`warden_http_requests_total{route="/items/:id",status="200"}`:  fmt.Sprint(n),
		`warden_http_requests_total{route="/me",status="401"}`:         fmt.Sprint(n),
		`warden_http_requests_total{route="other",status="404"}`:       fmt.Sprint(n),
		`warden_http_requests_in_flight`:                               "0",
	}
	for series, v := range want {
		if got[series] != v {
			t.Errorf("%s = %q, want %s", series, got[series], v)
		}
	}
}
