package host

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// pool holds a plugin version's instances: at most max in use at once, and
// idle ones kept for reuse. A caller waits, under its context, for a free
// slot, as Nakama's VM pools do; waiters are served in the order they
// came. The idle instances are a stack: the one used last, whose memory
// and state are likeliest still in the CPU's caches, is the next one out,
// where a queue would take turns through all of them.
//
// One mutex guards the slots and the idle stack together, so that a call
// takes its slot and its instance in one critical section, and gives both
// back in one: a channel of slots beside the mutex cost a call two
// channel operations more (docs/benchmarks.md, "Issue 12, thirteenth
// pass").
type pool struct {
	max     int
	newInst func(ctx context.Context) (*instance, error)
	live    atomic.Int64
	// mem is the linear memory of the live instances, in bytes, as of
	// their last return to the pool.
	mem atomic.Int64

	mu      sync.Mutex
	inUse   int             // slots taken, at most max
	waiters []chan struct{} // callers waiting for a slot, first come first; put hands a slot over by closing one
	idle    []*instance     // last in, first out
	closed  bool            // no instance joins idle once set
}

func newPool(maxInstances int, newInst func(context.Context) (*instance, error)) *pool {
	return &pool{
		max:     maxInstances,
		idle:    make([]*instance, 0, maxInstances),
		newInst: newInst,
	}
}

// get takes an idle instance, or makes one when none is idle and a slot is
// free. fast is true when it took a free slot and an idle instance at once,
// without waiting or instantiating: the caller's clock has not moved
// enough to read again.
//
// # Errors
//
// It returns context.DeadlineExceeded when no slot frees up by deadline,
// ctx's error when ctx ends first, and an instantiateError when a new
// instance fails.
func (pl *pool) get(ctx context.Context, deadline time.Time) (inst *instance, fast bool, err error) {
	pl.mu.Lock()
	if pl.inUse < pl.max && len(pl.waiters) == 0 { // fast path: no timer, no wait on ctx.Done
		pl.inUse++
		inst = pl.popLocked()
		pl.mu.Unlock()
		if inst != nil {
			return inst, true, nil
		}
	} else {
		ready := make(chan struct{})
		pl.waiters = append(pl.waiters, ready)
		pl.mu.Unlock()
		if err := pl.wait(ctx, deadline, ready); err != nil {
			return nil, false, err
		}
		if inst = pl.pop(); inst != nil {
			return inst, false, nil
		}
	}
	inst, err = pl.newInst(ctx)
	if err != nil {
		pl.release()
		return nil, false, instantiateError{err}
	}
	pl.live.Add(1)
	pl.track(inst)
	return inst, false, nil
}

// wait waits until put hands the caller the slot by closing ready, or
// until deadline or ctx ends. A caller that gives up leaves the queue; if
// the slot came at the same moment, it passes it on.
func (pl *pool) wait(ctx context.Context, deadline time.Time, ready chan struct{}) error {
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	select {
	case <-ready:
		return nil
	case <-wctx.Done():
	}
	pl.mu.Lock()
	select {
	case <-ready: // handed over as the wait ended: not ours to keep
		pl.releaseLocked()
		pl.mu.Unlock()
	default:
		for i, w := range pl.waiters {
			if w == ready {
				pl.waiters = slices.Delete(pl.waiters, i, i+1)
				break
			}
		}
		pl.mu.Unlock()
	}
	return wctx.Err()
}

// put returns inst to the pool. An unhealthy instance, or any instance after
// close, is closed instead and never reused. The slot is freed with the
// instance kept, in the same critical section, so that an instance never
// outnumbers the slots.
func (pl *pool) put(ctx context.Context, inst *instance, healthy bool) {
	if healthy {
		pl.track(inst)
		pl.mu.Lock()
		if pl.pushLocked(inst) {
			pl.releaseLocked()
			pl.mu.Unlock()
			return
		}
		pl.mu.Unlock()
	}
	pl.discard(ctx, inst)
	pl.release()
}

// release frees a slot: it goes to the first waiter, if any.
func (pl *pool) release() {
	pl.mu.Lock()
	pl.releaseLocked()
	pl.mu.Unlock()
}

func (pl *pool) releaseLocked() {
	if len(pl.waiters) > 0 {
		close(pl.waiters[0]) // the slot stays taken: it is the waiter's now
		pl.waiters[0] = nil
		pl.waiters = pl.waiters[1:]
		return
	}
	pl.inUse--
}

// add puts a fresh instance (the probe) straight into the idle set.
func (pl *pool) add(ctx context.Context, inst *instance) {
	pl.live.Add(1)
	pl.track(inst)
	pl.mu.Lock()
	ok := pl.pushLocked(inst)
	pl.mu.Unlock()
	if !ok {
		pl.discard(ctx, inst)
	}
}

// pop takes the idle instance used last, or returns nil.
func (pl *pool) pop() *instance {
	pl.mu.Lock()
	inst := pl.popLocked()
	pl.mu.Unlock()
	return inst
}

func (pl *pool) popLocked() *instance {
	n := len(pl.idle)
	if n == 0 {
		return nil
	}
	inst := pl.idle[n-1]
	pl.idle[n-1] = nil
	pl.idle = pl.idle[:n-1]
	return inst
}

// pushLocked keeps inst idle, unless the pool is closed (or, which its
// slots prevent, full), and reports whether it did. Checking closed under
// the same lock as close sets it and empties idle means that no instance
// can join idle after close has emptied it.
func (pl *pool) pushLocked(inst *instance) bool {
	ok := !pl.closed && len(pl.idle) < pl.max
	if ok {
		pl.idle = append(pl.idle, inst)
	}
	return ok
}

func (pl *pool) discard(ctx context.Context, inst *instance) {
	inst.close(ctx)
	pl.live.Add(-1)
	pl.mem.Add(-inst.memBytes)
	inst.memBytes = 0
}

// close stops reuse and closes the idle instances. Instances in use are
// closed when they are put back.
func (pl *pool) close(ctx context.Context) {
	pl.mu.Lock()
	pl.closed = true
	idle := pl.idle
	pl.idle = nil
	pl.mu.Unlock()
	for _, inst := range idle {
		pl.discard(ctx, inst)
	}
}

// instantiateError is pool.get's error when a new instance failed: the
// plugin's doing (its start function or init trapped, failed or ran out of
// time), unless the caller left meanwhile.
type instantiateError struct{ error }

// Unwrap returns the instantiation's error.
func (e instantiateError) Unwrap() error { return e.error }
