package outbound

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) OutboundCall(plugin, grant string, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, plugin+" "+grant+" "+http.StatusText(status))
}

// TestClient_observer checks that the Observer is told of each request
// with the grant that allowed it (a bounded label, never the URL), the
// refusals under one label, and no status when there was no response.
func TestClient_observer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	grant := "http://127.0.0.1:*"
	rec := &recorder{}
	c := testClient(t, []string{grant}, nil, func(cfg *Config, _ *ClientConfig) { cfg.Observer = rec })
	ctx := context.Background()
	for _, path := range []string{"/a?x=1", "/b/random-1234"} {
		if _, e := c.Do(ctx, get(srv.URL+path)); e != nil {
			t.Fatal(e)
		}
	}
	_, e := c.Do(ctx, get("http://example.com/secret"))
	wantStatus(t, e, abi.StatusNotGranted)
	_, e = c.Do(ctx, get("http://127.0.0.1:1/closed"))
	wantStatus(t, e, abi.StatusHTTPFailed)
	_, e = c.Do(ctx, abi.HTTPRequest{Method: "BAD METHOD", URL: srv.URL})
	wantStatus(t, e, abi.StatusBadArgument)
	want := []string{
		"fetch " + grant + " Accepted",
		"fetch " + grant + " Accepted",
		"fetch " + NotGrantedLabel + " ",
		"fetch " + grant + " ",
	}
	if !slices.Equal(rec.calls, want) {
		t.Fatalf("observed\n  %q\nwant\n  %q", rec.calls, want)
	}
}

// TestClient_observerCardinality is an attack on the metrics: a plugin
// granted a wildcard asks for a new subdomain on every request (each one
// resolves and answers), hoping to mint a label value per request and
// exhaust the server's memory through the metrics registry. Every request
// must be counted under the one grant that allowed it.
func TestClient_observerCardinality(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	p := port(t, srv.URL)
	wildcard := "http://*.victim.test:" + p
	res := &fakeResolver{answer: func(string, int) []netip.Addr { return addrs("127.0.0.1") }}
	rec := &recorder{}
	// The address grant lets the names reach the local test server.
	c := testClient(t, []string{wildcard, "http://127.0.0.1:" + p}, res, func(cfg *Config, _ *ClientConfig) { cfg.Observer = rec })
	for i := range 50 {
		host := fmt.Sprintf("r%d-%d.victim.test:%s", i, i*7919, p)
		if _, e := c.Do(context.Background(), get("http://"+host+"/")); e != nil {
			t.Fatalf("request %d: %v", i, e)
		}
	}
	labels := map[string]int{}
	for _, l := range rec.calls {
		labels[l]++
	}
	want := "fetch " + wildcard + " Accepted"
	if len(labels) != 1 || labels[want] != 50 {
		t.Fatalf("50 requests to 50 subdomains gave the labels %v, want only %q 50 times", labels, want)
	}
	if n := res.count("r0-0.victim.test"); n == 0 {
		t.Fatal("the names were not resolved by the client's resolver")
	}
}
