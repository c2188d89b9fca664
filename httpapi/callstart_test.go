package httpapi

import (
	"sync"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
)

// callObserver is an Observer that keeps the RPC calls' times.
type callObserver struct {
	mu    sync.Mutex
	calls []time.Duration
}

func (*callObserver) RequestStarted()         {}
func (*callObserver) RequestDone(string, int) {}
func (o *callObserver) RPCDone(_ string, _ abi.Code, elapsed time.Duration, _, _ int) {
	o.mu.Lock()
	o.calls = append(o.calls, elapsed)
	o.mu.Unlock()
}
func (*callObserver) PluginRouteDone(string, int, time.Duration, int, int) {}

// TestServer_callStart checks the clock reading a plugin call starts
// from (host.Request.Start): a request with a body passes the reading its
// slow-body check took, a GET passes none, so that the host reads its own
// clock, unless an observer times the call; a reading lies within the
// request, and the observer's time of the call runs from it.
func TestServer_callStart(t *testing.T) {
	for _, tc := range []struct {
		name, method, body string
		observed, want     bool
	}{
		{"POST", "POST", `"hi"`, false, true},
		{"GET", "GET", "", false, false},
		{"POST observed", "POST", `"hi"`, true, true},
		{"GET observed", "GET", "", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caller := echo()
			obs := &callObserver{}
			cfg := Config{Caller: caller}
			if tc.observed {
				cfg.Observer = obs
			}
			s := startServer(t, cfg)
			before := time.Now()
			got := do(t, s, tc.method, "/v2/rpc/echo?http_key="+testHTTPKey, nil, tc.body)
			after := time.Now()
			if got.status != 200 {
				t.Fatalf("got %d %s", got.status, got.body)
			}
			start := caller.only(t).Start
			switch {
			case !tc.want && !start.IsZero():
				t.Errorf("Start = %v, want none", start)
			case tc.want && (start.Before(before) || start.After(after)):
				t.Errorf("Start = %v, want between %v and %v", start, before, after)
			}
			if tc.observed {
				obs.mu.Lock()
				defer obs.mu.Unlock()
				if len(obs.calls) != 1 || obs.calls[0] < 0 || obs.calls[0] > after.Sub(start) {
					t.Errorf("observed calls %v, want one of at most %v", obs.calls, after.Sub(start))
				}
			}
		})
	}
}
