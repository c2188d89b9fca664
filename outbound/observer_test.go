package outbound

import (
	"context"
	"net/http"
	"net/http/httptest"
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
