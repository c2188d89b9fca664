package host

import (
	"context"
	"sync"
	"time"
)

// Calls whose deadline is at least coarseCallMin away take no runtime
// timer: the host's sweeper, waking every coarseCallTick, expires them, at
// most one tick late (a tenth of the shortest such deadline). A timer
// costs 0.3 µs per call (reset and stop, under the timers' lock), a sixth
// of a small call; nearer deadlines still use one, to the nanosecond.
const (
	coarseCallTick = 100 * time.Millisecond
	coarseCallMin  = 10 * coarseCallTick
)

// callDeadlines is the host's sweeper: it knows every instance's callCtx
// and expires those whose coarse deadline passed.
type callDeadlines struct {
	epoch time.Time // the host's: a call's due time is counted from it

	mu  sync.Mutex
	ccs map[*callCtx]struct{}
}

// newCallDeadlines returns a sweeper whose deadlines count from epoch.
// Run it with run.
func newCallDeadlines(epoch time.Time) *callDeadlines {
	return &callDeadlines{epoch: epoch, ccs: map[*callCtx]struct{}{}}
}

// add makes d watch c, for the life of its instance.
func (d *callDeadlines) add(c *callCtx) {
	d.mu.Lock()
	d.ccs[c] = struct{}{}
	d.mu.Unlock()
}

// remove stops watching c: its instance is closed.
func (d *callDeadlines) remove(c *callCtx) {
	d.mu.Lock()
	delete(d.ccs, c)
	d.mu.Unlock()
}

// run expires coarse deadlines every coarseCallTick until ctx is done.
func (d *callDeadlines) run(ctx context.Context) {
	t := time.NewTicker(coarseCallTick)
	defer t.Stop()
	var due []*callCtx
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := int64(time.Since(d.epoch))
		due = due[:0]
		d.mu.Lock()
		for c := range d.ccs {
			if v := c.due.Load(); v > 0 && v <= now && c.due.CompareAndSwap(v, 0) {
				due = append(due, c)
			}
		}
		d.mu.Unlock()
		for _, c := range due {
			c.expire() // outside the lock: it closes a channel, wakes waiters
		}
		clear(due)
	}
}
