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
// time; an instance keeps one callCtx, with its channel, for every call it
// serves. A deadline at least coarseCallMin away is expired by the host's
// sweeper (callDeadlines), costing the call two atomic operations; a nearer
// one by the callCtx's own timer.
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

	// sweeper watches c; due is the running call's coarse deadline as
	// time since sweeper.epoch, 0 when there is none (idle, or a near
	// deadline on the timer). The sweeper swaps a passed due for 0 before
	// it expires c, so a stop that finds its due gone knows.
	sweeper *callDeadlines
	due     atomic.Int64
	// armed is what start stored in due, or 0 when it used the timer;
	// only the calling goroutine reads it.
	armed int64
	// flag is the instance's interrupt flag, set once the module is
	// instantiated; interrupted makes interrupt write it at most once.
	flag        api.MutableGlobal
	interrupted atomic.Bool
	// st is the instance's call state, for host functions called with c
	// (see Host.stateOf); set with the flag.
	st *callState
}

// newCallCtx returns an idle callCtx watched by sweeper. Call release when
// its instance closes.
func newCallCtx(sweeper *callDeadlines) *callCtx {
	c := &callCtx{done: make(chan struct{}), sweeper: sweeper}
	c.timer = time.AfterFunc(time.Hour, c.expire)
	c.timer.Stop()
	sweeper.add(c)
	return c
}

// release stops the sweeper watching c.
func (c *callCtx) release() { c.sweeper.remove(c) }

// expire runs on the timer's or the sweeper's goroutine when a call
// outlives its deadline.
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
	if timeout < coarseCallMin {
		c.armed = 0
		c.timer.Reset(timeout)
		return
	}
	// No clock read: deadline carries a monotonic reading, as the epoch.
	c.armed = max(int64(deadline.Sub(c.sweeper.epoch)), 1)
	c.due.Store(c.armed)
}

// stop disarms c after a call. It reports false when the deadline passed
// first (or is passing now): the instance must then not be reused.
func (c *callCtx) stop() bool {
	var stopped bool
	if c.armed == 0 {
		stopped = c.timer.Stop()
	} else {
		stopped = c.due.CompareAndSwap(c.armed, 0)
	}
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
