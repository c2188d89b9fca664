package main

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServer_accessLogShutdown checks that a clean stop loses no access log
// line although lines are written in batches: N requests, then a graceful
// shutdown, then N lines.
func TestServer_accessLogShutdown(t *testing.T) {
	s := startServer(t, dataArgs(t, "../../plugins")...)
	const n, workers = 200, 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				res := do(t, "POST", s.URL+"/v2/rpc/echo?unwrap&http_key="+testHTTPKey, "x", nil)
				if res.Status != 200 {
					t.Errorf("request %d: status %d", i, res.Status)
				}
			}
		})
	}
	wg.Wait()
	s.stop(t)
	count := func() int { return strings.Count(s.logs.String(), `"path":"/v2/rpc/echo","status":200`) }
	// run has returned: every line is written; the reader of the pipe may
	// still be appending them.
	for deadline := time.Now().Add(10 * time.Second); count() < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := count(); got != n {
		t.Fatalf("%d access log lines for %d requests", got, n)
	}
}
