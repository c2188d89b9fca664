package httpapi

import (
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/session"
)

// TestServer_traceIDs checks that each request has its own trace ID, a
// version 4 UUID, which the plugin gets as the request's and the access
// log as req_id, and which stays as it was after later requests: the
// caller keeps every request it was given and checks them at the end.
func TestServer_traceIDs(t *testing.T) {
	var logs syncBuffer
	caller := echo()
	s := serve(t, Config{Caller: caller, AccessLog: true, Logger: zerolog.New(&logs)})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if res := do(t, s, "POST", "/v2/rpc/echo?unwrap&http_key="+testHTTPKey, nil, "x"); res.status != 200 {
					t.Errorf("POST: %d %q", res.status, res.body)
				}
			}
		})
	}
	wg.Wait()
	reqs := caller.requests()
	if len(reqs) != 80 {
		t.Fatalf("the caller got %d requests, want 80", len(reqs))
	}
	seen := make(map[string]bool)
	for _, r := range reqs {
		id := r.TraceID
		if !session.IsUUID(id) || id[14] != '4' || seen[id] {
			t.Fatalf("trace ID %q: not a version 4 UUID, or repeated", id)
		}
		seen[id] = true
		if n := strings.Count(logs.String(), `"req_id":"`+id+`"`); n != 1 {
			t.Errorf("trace ID %s is in %d access log lines, want 1", id, n)
		}
	}
}
