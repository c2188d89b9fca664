package host

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// callCtx is the context of one call on one instance: the caller's values
// and cancellation, and the host's deadline. context.WithTimeout would cost
// a context, a timer and a channel per call, a third of a small call's
// time; an instance keeps one callCtx, with its timer and channel, for
// every call it serves.
//
// When the deadline passes, expire sets the instance's interrupt flag,
// which makes the guest trap at its next function entry or loop iteration
// (package interrupt), and closes Done, which host functions watch. A
// caller that goes away does not interrupt a running guest: the call stops
// at its deadline at the latest, and host functions see the cancellation
// in Err.
// After an expiry the instance is discarded, never reused, so the closed
// channel is never handed to another call.
type callCtx struct {
	context.Context // the caller's context during a call

	deadline time.Time
	done     chan struct{}
	timer    *time.Timer
	expired  atomic.Bool

	// flag is the instance's interrupt flag, set once the module is
	// instantiated; interrupted makes interrupt write it at most once.
	flag        api.MutableGlobal
	interrupted atomic.Bool
}

// newCallCtx returns an idle callCtx.
func newCallCtx() *callCtx {
	c := &callCtx{done: make(chan struct{})}
	c.timer = time.AfterFunc(time.Hour, c.expire)
	c.timer.Stop()
	return c
}

// expire runs on the timer's goroutine when a call outlives its deadline.
func (c *callCtx) expire() {
	if c.expired.CompareAndSwap(false, true) {
		c.interrupt() // after expired: a guest that traps on the flag sees Err report the deadline
		close(c.done)
	}
}

// start arms c for a call from parent that must end by deadline, which is
// timeout from now.
func (c *callCtx) start(parent context.Context, deadline time.Time, timeout time.Duration) {
	c.Context, c.deadline = parent, deadline
	c.timer.Reset(timeout)
}

// stop disarms c after a call. It reports false when the deadline passed
// first (or is passing now): the instance must then not be reused.
func (c *callCtx) stop() bool {
	stopped := c.timer.Stop()
	c.Context = nil
	return stopped && !c.expired.Load()
}

// Deadline returns the call's deadline.
func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Done is closed when the call's deadline passes.
func (c *callCtx) Done() <-chan struct{} { return c.done }

// Err is context.DeadlineExceeded after the deadline, else the caller's
// error.
func (c *callCtx) Err() error {
	if c.expired.Load() {
		return context.DeadlineExceeded
	}
	return c.Context.Err()
}
