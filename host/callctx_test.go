package host

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCallCtx_reusedUntilExpiry(t *testing.T) {
	c := newCallCtx()
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
