package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// metricsURL returns the URL the server logged for its metrics listener.
func metricsURL(t *testing.T, s *server) string {
	t.Helper()
	for _, line := range strings.Split(s.logs.String(), "\n") {
		var e struct{ Message, URL string }
		if json.Unmarshal([]byte(line), &e) == nil && e.Message == "metrics listening" {
			return e.URL
		}
	}
	t.Fatalf("no metrics listener in the logs:\n%s", s.logs.String())
	return ""
}

// scrape reads the metrics and returns each series line's value, by the
// series (name and labels as exposed).
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res := do(t, "GET", url, "", nil)
	if res.Status != 200 || !strings.HasPrefix(res.ContentType, "text/plain") {
		t.Fatalf("scrape: %d %s", res.Status, res.ContentType)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(res.Body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetrics(t *testing.T) {
	s := startServer(t, append(dataArgs(t, "../../plugins"), "-metrics-addr", "127.0.0.1:0")...)
	murl := metricsURL(t, s)
	key := "?http_key=" + testHTTPKey
	for i := 0; i < 3; i++ {
		if res := do(t, "POST", s.URL+"/v2/rpc/echo"+key+"&unwrap", "hello", nil); res.Status != 200 || res.Body != "hello" {
			t.Fatalf("echo: %d %s", res.Status, res.Body)
		}
	}
	for i := 0; i < 4; i++ {
		body := fmt.Sprintf(`{"key":"k%d","value":"v"}`, i)
		if res := do(t, "POST", s.URL+"/v2/rpc/kv_put"+key+"&unwrap", body, nil); res.Status != 200 {
			t.Fatalf("kv_put: %d %s", res.Status, res.Body)
		}
	}
	if res := do(t, "GET", s.URL+"/test", "", nil); res.Status != 200 {
		t.Fatalf("seed route: %d %s", res.Status, res.Body)
	}
	if res := do(t, "GET", s.URL+"/v2/rpc/echo", "", nil); res.Status != 401 {
		t.Fatalf("no key: %d", res.Status)
	}
	round := func(n int) {
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("nope-%x", rand.Uint64())
			if res := do(t, "POST", s.URL+"/v2/rpc/"+id+key, `""`, nil); res.Status != 404 {
				t.Fatalf("unknown rpc: %d", res.Status)
			}
			if res := do(t, "GET", s.URL+"/random/"+id, "", nil); res.Status != 404 {
				t.Fatalf("random path: %d", res.Status)
			}
		}
	}
	round(20)
	m := scrape(t, murl)
	want := map[string]float64{
		`warden_rpc_requests_total{code="0",id="echo"}`:                3,
		`warden_rpc_request_bytes_total{id="echo"}`:                    15,
		`warden_rpc_response_bytes_total{id="echo"}`:                   15,
		`warden_rpc_duration_seconds_count{id="echo"}`:                 3,
		`warden_rpc_requests_total{code="5",id="(unknown)"}`:           20,
		`warden_route_requests_total{route="/test",status="200"}`:      1,
		`warden_route_duration_seconds_count{route="/test"}`:           1,
		`warden_http_requests_total{route="/v2/rpc/*id",status="200"}`: 7, // 3 echo, 4 kv_put
		`warden_http_requests_total{route="/v2/rpc/*id",status="401"}`: 1,
		`warden_http_requests_total{route="/v2/rpc/*id",status="404"}`: 20,
		`warden_http_requests_total{route="/test",status="200"}`:       1,
		`warden_http_requests_total{route="other",status="404"}`:       20,
		`warden_http_requests_in_flight`:                               0, // the scrape is not an API request
		`warden_plugin_reloads_total{plugin="echo",result="loaded"}`:   1,
	}
	for series, v := range want {
		if got, ok := m[series]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
		}
	}
	info := regexp.MustCompile(`^warden_plugin_info\{generation="\d+",plugin="echo",version="[0-9a-f]{12}"\}$`)
	var infos int
	for series := range m {
		if info.MatchString(series) {
			infos++
		}
		if strings.Contains(series, "nope-") || strings.Contains(series, "random") {
			t.Errorf("a label value came from a request path: %s", series)
		}
	}
	if infos != 1 {
		t.Errorf("%d warden_plugin_info series for echo, want 1", infos)
	}
	for _, name := range []string{`warden_plugin_instances{plugin="echo"}`, `warden_plugin_breaker_open{plugin="echo"}`, "go_goroutines", "process_open_fds"} {
		if _, ok := m[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
	// The kv plugin's statements: its puts at least, each one group
	// commit's write or more.
	if n := m[`warden_plugin_db_statements_total{plugin="kv"}`]; n < 4 {
		t.Errorf("kv statements = %v, want at least 4", n)
	}
	if n, ok := m[`warden_plugin_db_errors_total{plugin="kv"}`]; !ok || n != 0 {
		t.Errorf("kv statement errors = %v (present %v), want 0", n, ok)
	}
	if n := m[`warden_db_group_commit_size_sum{db="kv"}`]; n < 4 {
		t.Errorf("writes committed in groups on kv = %v, want at least 4", n)
	}
	if n := m[`warden_db_group_commit_size_count{db="kv"}`]; n < 1 || n > m[`warden_db_group_commit_size_sum{db="kv"}`] {
		t.Errorf("group commits on kv = %v, want 1 to the writes", n)
	}
	if n := m[`warden_plugin_memory_bytes{plugin="echo"}`]; n < 65536 {
		t.Errorf("echo's memory = %v bytes, want at least a page", n)
	}
	// More random ids and paths add no series.
	round(30)
	m2 := scrape(t, murl)
	if len(m2) != len(m) {
		t.Errorf("%d series after 30 more random ids and paths, %d before", len(m2), len(m))
	}
	if got := m2[`warden_rpc_requests_total{code="5",id="(unknown)"}`]; got != 50 {
		t.Errorf("unknown rpcs = %v, want 50", got)
	}
}
