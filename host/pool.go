package host

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// pool holds a plugin version's instances: at most max in use at once, and
// idle ones kept for reuse. A caller waits, under its context, for a free
// slot, as Nakama's VM pools do. The idle instances are a stack: the one
// used last, whose memory and state are likeliest still in the CPU's
// caches, is the next one out, where a queue would take turns through all
// of them.
type pool struct {
	slots   chan struct{}
	newInst func(ctx context.Context) (*instance, error)
	live    atomic.Int64
	// mem is the linear memory of the live instances, in bytes, as of
	// their last return to the pool.
	mem atomic.Int64

	mu     sync.Mutex
	idle   []*instance // last in, first out
	closed bool        // no instance joins idle once set
}

func newPool(maxInstances int, newInst func(context.Context) (*instance, error)) *pool {
	return &pool{
		slots:   make(chan struct{}, maxInstances),
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
// ctx's error when ctx ends first, and the instantiation error when a new
// instance fails.
func (pl *pool) get(ctx context.Context, deadline time.Time) (inst *instance, fast bool, err error) {
	fast = true
	select {
	case pl.slots <- struct{}{}: // fast path: no timer, no wait on ctx.Done
	default:
		fast = false
		wctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		select {
		case pl.slots <- struct{}{}:
		case <-wctx.Done():
			return nil, false, wctx.Err()
		}
	}
	if inst := pl.pop(); inst != nil {
		return inst, fast, nil
	}
	inst, err = pl.newInst(ctx)
	if err != nil {
		<-pl.slots
		return nil, false, err
	}
	pl.live.Add(1)
	pl.track(inst)
	return inst, false, nil
}

// put returns inst to the pool. An unhealthy instance, or any instance after
// close, is closed instead and never reused. The slot is freed last, so
// that an instance never outnumbers the slots.
func (pl *pool) put(ctx context.Context, inst *instance, healthy bool) {
	if healthy {
		pl.track(inst)
		if pl.push(inst) {
			<-pl.slots
			return
		}
	}
	pl.discard(ctx, inst)
	<-pl.slots
}

// add puts a fresh instance (the probe) straight into the idle set.
func (pl *pool) add(ctx context.Context, inst *instance) {
	pl.live.Add(1)
	pl.track(inst)
	if !pl.push(inst) {
		pl.discard(ctx, inst)
	}
}

// pop takes the idle instance used last, or returns nil.
func (pl *pool) pop() *instance {
	pl.mu.Lock()
	n := len(pl.idle)
	if n == 0 {
		pl.mu.Unlock()
		return nil
	}
	inst := pl.idle[n-1]
	pl.idle[n-1] = nil
	pl.idle = pl.idle[:n-1]
	pl.mu.Unlock()
	return inst
}

// push keeps inst idle, unless the pool is closed (or, which its slots
// prevent, full), and reports whether it did. Checking closed under the
// same lock as close sets it and empties idle means that no instance can
// join idle after close has emptied it.
func (pl *pool) push(inst *instance) bool {
	pl.mu.Lock()
	ok := !pl.closed && len(pl.idle) < cap(pl.slots)
	if ok {
		pl.idle = append(pl.idle, inst)
	}
	pl.mu.Unlock()
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
