package host

import (
	"context"
	"sync/atomic"
	"time"
)

// pool holds a plugin version's instances: at most max in use at once, and
// idle ones kept for reuse. A caller waits, under its context, for a free
// slot, as Nakama's VM pools do.
type pool struct {
	slots   chan struct{}
	idle    chan *instance
	newInst func(ctx context.Context) (*instance, error)
	live    atomic.Int64
	closed  atomic.Bool
	// mem is the linear memory of the live instances, in bytes, as of
	// their last return to the pool.
	mem atomic.Int64
}

func newPool(maxInstances int, newInst func(context.Context) (*instance, error)) *pool {
	return &pool{
		slots:   make(chan struct{}, maxInstances),
		idle:    make(chan *instance, maxInstances),
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
	select {
	case inst := <-pl.idle:
		return inst, fast, nil
	default:
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
// close, is closed instead and never reused.
//
// # Notes
//
// close may run between the check of closed and the send to idle, and
// drain idle before inst is in it; so put checks again after the send and,
// when the pool has closed meanwhile, drains idle itself. Each instance is
// then closed exactly once: the atomics are sequentially consistent, so
// either put's second check sees closed (and put drains), or close set
// closed after it and so drains after the send; and an instance leaves
// idle only by one receive, whose receiver alone closes (or, for get,
// uses and puts back) it.
func (pl *pool) put(ctx context.Context, inst *instance, healthy bool) {
	if healthy && !pl.closed.Load() {
		pl.track(inst)
		select {
		case pl.idle <- inst:
			<-pl.slots
			if pl.closed.Load() {
				pl.drain(ctx)
			}
			return
		default:
		}
	}
	pl.discard(ctx, inst)
	<-pl.slots
}

// add puts a fresh instance (the probe) straight into the idle set.
func (pl *pool) add(ctx context.Context, inst *instance) {
	pl.live.Add(1)
	pl.track(inst)
	select {
	case pl.idle <- inst:
	default:
		pl.discard(ctx, inst)
	}
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
	pl.closed.Store(true)
	pl.drain(ctx)
}

// drain closes the idle instances.
func (pl *pool) drain(ctx context.Context) {
	for {
		select {
		case inst := <-pl.idle:
			pl.discard(ctx, inst)
		default:
			return
		}
	}
}
