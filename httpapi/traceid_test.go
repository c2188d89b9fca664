package httpapi

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
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
		id := r.TraceID()
		if !session.IsUUID(id) || id[14] != '4' || seen[id] {
			t.Fatalf("trace ID %q: not a version 4 UUID, or repeated", id)
		}
		seen[id] = true
		if n := strings.Count(logs.String(), `"req_id":"`+id+`"`); n != 1 {
			t.Errorf("trace ID %s is in %d access log lines, want 1", id, n)
		}
	}
}

// TestServer_traceIDOnDemand checks that a request makes its trace ID only
// when something asks for it, and that whoever asks first, the plugin or
// the access log, the other gets the same ID: with the access log off a
// plugin call that does not ask finds none made, and one that asks twice
// gets one ID; with it on, the ID the plugin asked for is the line's
// req_id.
func TestServer_traceIDOnDemand(t *testing.T) {
	type seen struct {
		madeBefore   bool
		first, again string
	}
	calls := make(chan seen, 1)
	caller := &fakeCaller{fn: func(_ context.Context, req *host.Request) (host.Result, error) {
		ri, ok := req.Trace.(*requestInfo)
		if !ok {
			return host.Result{}, fmt.Errorf("the request's Tracer is a %T, want the middleware's *requestInfo", req.Trace)
		}
		s := seen{madeBefore: ri.traced}
		s.first, s.again = req.TraceID(), req.TraceID()
		calls <- s
		return host.Result{Output: req.Payload}, nil
	}}
	for _, accessLog := range []bool{false, true} {
		t.Run(fmt.Sprintf("accessLog=%v", accessLog), func(t *testing.T) {
			var logs syncBuffer
			s := serve(t, Config{Caller: caller, AccessLog: accessLog, Logger: zerolog.New(&logs)})
			if res := do(t, s, "POST", "/v2/rpc/echo?unwrap&http_key="+testHTTPKey, nil, "x"); res.status != 200 {
				t.Fatalf("POST: %d %q", res.status, res.body)
			}
			got := <-calls
			if got.madeBefore {
				t.Error("the trace ID was made before anything asked for it")
			}
			if !session.IsUUID(got.first) || got.again != got.first {
				t.Errorf("TraceID() = %q, then %q: want one UUID", got.first, got.again)
			}
			lines := strings.Count(logs.String(), `"req_id":"`+got.first+`"`)
			if want := map[bool]int{false: 0, true: 1}[accessLog]; lines != want {
				t.Errorf("the plugin's trace ID is in %d access log lines, want %d:\n%s", lines, want, logs.String())
			}
		})
	}
}
