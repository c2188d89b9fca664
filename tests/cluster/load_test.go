package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// tally counts the answers of a load.
type tally struct {
	ok, retryable, transport atomic.Int64
	mu                       sync.Mutex
	bad                      []string // answers that are neither 200 nor retryable
}

// record counts a; a failure must be retryable: 503 with code 14.
func (tl *tally) record(nd *node, a answer) {
	switch {
	case a.err != nil:
		tl.transport.Add(1)
	case a.status == http.StatusOK:
		tl.ok.Add(1)
	case a.status == http.StatusServiceUnavailable && a.code == 14:
		tl.retryable.Add(1)
	default:
		tl.mu.Lock()
		tl.bad = append(tl.bad, fmt.Sprintf("%s: %d %s", nd.name, a.status, a.body))
		tl.mu.Unlock()
	}
}

// counterValue reads counter name through nd (adding 0).
func (c *cluster) counterValue(t *testing.T, nd *node, name string) int64 {
	t.Helper()
	a := c.rpc(t.Context(), client(4), nd, "counter_incr", `{"name":"`+name+`","by":0}`)
	var v struct{ Value int64 }
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &v) != nil {
		t.Fatalf("counter_incr by 0 on %s = %d %q", nd.name, a.status, a.body)
	}
	return v.Value
}

// testCounter sends 480 counter_incr at once through the three nodes:
// every 200 is counted exactly once, and every failure is retryable.
func testCounter(t *testing.T, c *cluster, nodes []*node) {
	const total = 480
	var tl tally
	hc := client(4)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range total {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nd := nodes[i%len(nodes)]
			<-start
			tl.record(nd, c.rpc(t.Context(), hc, nd, "counter_incr", `{"name":"hits"}`))
		}()
	}
	close(start)
	wg.Wait()
	for _, b := range tl.bad {
		t.Error("not 200 and not retryable:", b)
	}
	if n := tl.transport.Load(); n > 0 {
		t.Errorf("%d requests failed in transport", n)
	}
	got := c.counterValue(t, nodes[0], "hits")
	t.Logf("480 counter_incr: %d ok, %d retryable failures; counter %d", tl.ok.Load(), tl.retryable.Load(), got)
	if got != tl.ok.Load() {
		t.Errorf("counter = %d, want %d (the number of 200 answers)", got, tl.ok.Load())
	}
	if tl.ok.Load() == 0 {
		t.Error("no increment succeeded")
	}
}

// TestCluster_killNode kills one of three nodes with SIGKILL in the middle
// of a load of counter_incr: no acknowledged increment is lost, and the
// other nodes keep serving.
func TestCluster_killNode(t *testing.T) {
	c := newCluster(t, pgtest.URL(t))
	nodes := c.start(t, 3)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var tl, after tally
	var killed atomic.Bool
	wait := load(ctx, 24, func(hc *http.Client, w, i int) {
		nd := nodes[(w+i)%len(nodes)]
		if killed.Load() && nd == nodes[2] {
			return // a client would go elsewhere
		}
		a := c.rpc(ctx, hc, nd, "counter_incr", `{"name":"hits"}`)
		if ctx.Err() != nil {
			return // cut by the end of the load: unknown outcome, like a kill
		}
		tl.record(nd, a)
		if killed.Load() && nd != nodes[2] {
			after.record(nd, a)
		}
	})
	waitFor(t, func() bool { return tl.ok.Load() >= 100 }, "100 increments before the kill")
	nodes[2].kill(t)
	killed.Store(true)
	waitFor(t, func() bool { return after.ok.Load() >= 200 }, "200 increments on the survivors after the kill")
	cancel()
	wait()
	for _, b := range append(tl.bad, after.bad...) {
		t.Error("not 200 and not retryable:", b)
	}
	// Retryable answers (serialization failures between concurrent
	// increments) are normal under this load; a lost connection is not.
	if n := after.transport.Load(); n > 0 {
		t.Errorf("%d requests to the surviving nodes failed in transport after the kill", n)
	}
	got := c.counterValue(t, nodes[0], "hits")
	// An increment cut by the kill or the end of the load may or may not
	// have committed; an acknowledged one must be there.
	t.Logf("%d acknowledged, %d cut in transport; counter %d", tl.ok.Load(), tl.transport.Load(), got)
	if got < tl.ok.Load() {
		t.Errorf("counter = %d < %d acknowledged increments: acknowledged writes were lost", got, tl.ok.Load())
	}
	if got > tl.ok.Load()+tl.transport.Load()+int64(24) {
		t.Errorf("counter = %d, more than the %d acknowledged plus the %d unanswered", got, tl.ok.Load(), tl.transport.Load()+24)
	}
}

// load runs workers goroutines, each with a client of its own address,
// that call each with their worker number and a counter until ctx is done,
// and returns a function that waits for them to stop.
func load(ctx context.Context, workers int, each func(hc *http.Client, w, i int)) (wait func()) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := client(byte(100 + w))
			for i := 0; ctx.Err() == nil; i++ {
				each(hc, w, i)
			}
		}()
	}
	return wg.Wait
}

// waitFor polls cond until it holds, failing after a generous while.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
