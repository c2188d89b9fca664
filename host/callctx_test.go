package host

import (
	"context"
	"errors"
	"testing"
	"time"
)

// sweeper returns a running callDeadlines, stopped at the test's end.
func sweeper(t *testing.T) *callDeadlines {
	t.Helper()
	d := newCallDeadlines(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

func TestCallCtx_reusedUntilExpiry(t *testing.T) {
	c := newCallCtx(sweeper(t))
	parent, cancel := context.WithCancel(context.Background())
	for range 3 { // an instance's calls reuse the same context
		c.start(parent, time.Now().Add(time.Hour), time.Hour)
		if d, ok := c.Deadline(); !ok || time.Until(d) < 59*time.Minute {
			t.Fatalf("Deadline() = %v, %v", d, ok)
		}
		if c.Err() != nil {
			t.Fatalf("Err() = %v during a live call", c.Err())
		}
		if !c.stop() {
			t.Fatal("stop() = false before the deadline")
		}
	}
	c.start(parent, time.Now().Add(time.Hour), time.Hour)
	cancel()
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("Err() = %v after the caller canceled", c.Err())
	}
	select {
	case <-c.Done():
		t.Fatal("Done closed by the caller's cancel; only the deadline interrupts the guest")
	default:
	}
	c.stop()

	c.start(context.Background(), time.Now().Add(10*time.Millisecond), 10*time.Millisecond)
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the deadline")
	}
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err() = %v after the deadline", c.Err())
	}
	if c.stop() {
		t.Fatal("stop() = true after the deadline: the spent context would be reused")
	}
}

// TestCallCtx_coarseDeadline checks a deadline far enough to be the
// sweeper's: no timer, expiry not before the deadline, a stopped call not
// expired later at its old deadline, and release.
func TestCallCtx_coarseDeadline(t *testing.T) {
	sw := sweeper(t)
	c := newCallCtx(sw)
	timeout := coarseCallMin
	// A call that ends in time, then a later call on the same context:
	// the first deadline passing must not expire the second call.
	c.start(context.Background(), time.Now().Add(timeout), timeout)
	if c.armed == 0 {
		t.Fatal("a deadline of coarseCallMin used the timer")
	}
	if !c.stop() {
		t.Fatal("stop() = false long before the deadline")
	}
	c.start(context.Background(), time.Now().Add(time.Hour), time.Hour)
	time.Sleep(timeout + 3*coarseCallTick) // past the first call's deadline
	if c.Err() != nil {
		t.Fatalf("Err() = %v: the first call's deadline expired the second", c.Err())
	}
	if !c.stop() {
		t.Fatal("stop() = false an hour before the deadline")
	}

	deadline := time.Now().Add(timeout)
	c.start(context.Background(), deadline, timeout)
	select {
	case <-c.Done():
	case <-time.After(timeout + 10*time.Second):
		t.Fatal("Done not closed after a coarse deadline")
	}
	if now := time.Now(); now.Before(deadline) {
		t.Fatalf("expired %v before the deadline", deadline.Sub(now))
	}
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err() = %v after the deadline", c.Err())
	}
	if c.stop() {
		t.Fatal("stop() = true after the deadline: the spent context would be reused")
	}
	c.release()
	sw.mu.Lock()
	_, watched := sw.ccs[c]
	sw.mu.Unlock()
	if watched {
		t.Fatal("released callCtx still watched by the sweeper")
	}
}

// TestHost_stateOf checks that a host function finds its own instance's
// state whichever context it is called with: its instance's callCtx (the
// shortcut), another instance's, or a context that is no callCtx (init).
func TestHost_stateOf(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "hostile.wasm"), nil)
	p := h.Plugins()[0]
	a, err := p.newInstance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(context.Background())
	b, err := p.newInstance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer b.close(context.Background())
	for _, tc := range []struct {
		name string
		ctx  context.Context
		inst *instance
	}{
		{"own callCtx", a.cc, a},
		{"own callCtx, b", b.cc, b},
		{"another instance's callCtx", a.cc, b},
		{"another instance's callCtx, b", b.cc, a},
		{"not a callCtx", context.Background(), a},
	} {
		if got := h.stateOf(tc.ctx, tc.inst.mod); got != &tc.inst.st {
			t.Errorf("%s: stateOf gives another state than the instance's", tc.name)
		}
	}
	if got := h.stateOf(a.cc, nil); got != nil {
		t.Errorf("stateOf(a.cc, nil) = %p, want nil", got)
	}
}
