package host

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/warden-rpc/warden/abi"
)

// TestPool_putCloseRace puts instances back from many goroutines while the
// pool closes, round after round: every instance the pool made must end
// closed, exactly once (live back to 0, never below), and none may be left
// in idle. A put that saw the pool open but sent its instance to idle after
// close had drained it leaked that instance and its memory. The instances
// are real wazero modules of one page of memory, cheap to make.
func TestPool_putCloseRace(t *testing.T) {
	ctx := context.Background()
	const rounds, goroutines, size = 100, 8, 8
	var mu sync.Mutex
	var made []*instance // this round's
	newInst := onePageInstances(t, func(inst *instance) {
		mu.Lock()
		made = append(made, inst)
		mu.Unlock()
	})
	for round := range rounds {
		made = nil // no goroutine of the last round is left
		pl := newPool(size, newInst)
		var puts atomic.Int64
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for !closed(pl) {
					inst, _, err := pl.get(ctx, time.Now().Add(time.Minute))
					if err != nil {
						t.Error(err)
						return
					}
					pl.put(ctx, inst, true)
					puts.Add(1)
				}
			})
		}
		wg.Go(func() {
			for puts.Load() < goroutines*4 {
				runtime.Gosched()
			}
			pl.close(ctx)
		})
		wg.Wait()
		if n := pl.live.Load(); n != 0 {
			t.Fatalf("round %d: %d instances live after close and every put, want 0", round, n)
		}
		if n := len(pl.idle); n != 0 { // every goroutine is done: no lock needed
			t.Fatalf("round %d: %d instances left idle after close", round, n)
		}
		for i, inst := range made {
			if !inst.mod.IsClosed() {
				t.Fatalf("round %d: instance %d of %d never closed", round, i, len(made))
			}
		}
	}
}

// TestPool_lastInFirstOut: the instance put back last is the next one
// out, so that a server under light load keeps reusing the instance warm
// in the CPU's caches; an instance put back after close is closed, not
// kept.
func TestPool_lastInFirstOut(t *testing.T) {
	ctx := context.Background()
	pl := newPool(3, onePageInstances(t, nil))
	get := func() *instance {
		t.Helper()
		inst, _, err := pl.get(ctx, time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return inst
	}
	a, b, c := get(), get(), get()
	pl.put(ctx, a, true)
	pl.put(ctx, b, true)
	pl.put(ctx, c, true)
	for i, want := range []*instance{c, b, a} {
		if got := get(); got != want {
			t.Fatalf("get %d: not the instance put back %d from last", i, i+1)
		}
	}
	pl.put(ctx, a, true)
	if got := get(); got != a {
		t.Fatal("the instance just put back was not the next one out")
	}
	pl.put(ctx, a, true)
	pl.close(ctx)
	if !a.mod.IsClosed() {
		t.Fatal("close left an idle instance open")
	}
	pl.put(ctx, b, true)
	pl.put(ctx, c, true)
	if !b.mod.IsClosed() || !c.mod.IsClosed() || len(pl.idle) != 0 {
		t.Fatal("instances put back after close were kept")
	}
	if n := pl.live.Load(); n != 0 {
		t.Fatalf("%d instances live after close, want 0", n)
	}
}

// TestPool_waiters: with every slot taken, callers wait in the order they
// came; one whose deadline passes gets DeadlineExceeded and leaves the
// queue, and the slot a put frees goes to the first caller still waiting,
// with the instance put back. Then, from many goroutines with deadlines
// so short that many run out as a slot is handed to them, no more callers
// ever hold an instance than there are slots, and at the end every slot is
// free and nobody waits: a slot handed to a caller that gave up at that
// moment must be passed on, not lost.
func TestPool_waiters(t *testing.T) {
	ctx := context.Background()
	pl := newPool(1, onePageInstances(t, nil))
	a, _, err := pl.get(ctx, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		inst *instance
		fast bool
		err  error
	}
	waitFor := func(n int) { // until n callers wait
		t.Helper()
		for start := time.Now(); ; {
			pl.mu.Lock()
			w := len(pl.waiters)
			pl.mu.Unlock()
			if w == n {
				return
			}
			if time.Since(start) > 10*time.Second { // a bound for a broken pool, not a timing
				t.Fatalf("%d callers waiting, want %d", w, n)
			}
			runtime.Gosched()
		}
	}
	first := make(chan got, 1)
	go func() {
		inst, fast, err := pl.get(ctx, time.Now().Add(time.Minute))
		first <- got{inst, fast, err}
	}()
	waitFor(1)
	late, cancel := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() {
		_, _, err := pl.get(late, time.Now().Add(time.Minute))
		second <- err
	}()
	waitFor(2)
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Fatalf("second caller, its context canceled: %v", err)
	}
	waitFor(1)
	if _, _, err := pl.get(ctx, time.Now()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("caller whose deadline has passed: %v, want DeadlineExceeded", err)
	}
	waitFor(1)
	pl.put(ctx, a, true)
	g := <-first
	if g.err != nil || g.inst != a || g.fast {
		t.Fatalf("first caller: instance %p fast %v err %v, want the instance put back (%p), not fast", g.inst, g.fast, g.err, a)
	}
	pl.put(ctx, g.inst, true)

	pl = newPool(2, onePageInstances(t, nil))
	var holders, timeouts atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 300 {
				wait := time.Duration((w*i)%5) * 20 * time.Microsecond
				inst, _, err := pl.get(ctx, time.Now().Add(wait))
				if errors.Is(err, context.DeadlineExceeded) {
					timeouts.Add(1)
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if n := holders.Add(1); n > 2 {
					t.Errorf("%d callers hold an instance, the pool has 2 slots", n)
				}
				runtime.Gosched()
				holders.Add(-1)
				pl.put(ctx, inst, true)
			}
		})
	}
	wg.Wait()
	pl.mu.Lock()
	inUse, waiting := pl.inUse, len(pl.waiters)
	pl.mu.Unlock()
	if inUse != 0 || waiting != 0 {
		t.Fatalf("after every caller: %d slots taken, %d waiting, want none", inUse, waiting)
	}
	if timeouts.Load() == 0 {
		t.Fatal("no caller ran out of time: the test did not test giving up")
	}
	if _, fast, err := pl.get(ctx, time.Now().Add(time.Minute)); err != nil || !fast {
		t.Fatalf("a call after the churn: fast %v, %v", fast, err)
	}
}

// onePageInstances returns a pool's newInst that makes real wazero
// instances of a module with one page of memory, cheap to make, each
// passed to made (which may be nil) as it is made.
func onePageInstances(t testing.TB, made func(*instance)) func(context.Context) (*instance, error) {
	t.Helper()
	ctx := context.Background()
	h := newTestHost(t, t.TempDir(), nil)
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	compiled, err := rt.CompileModule(ctx, []byte("\x00asm\x01\x00\x00\x00\x05\x03\x01\x00\x01")) // (module (memory 1))
	if err != nil {
		t.Fatal(err)
	}
	p := &Plugin{host: h}
	return func(ctx context.Context) (*instance, error) {
		mod, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			return nil, err
		}
		inst := &instance{mod: mod, cc: newCallCtx(h.deadlines)}
		inst.st.p = p
		if made != nil {
			made(inst)
		}
		return inst, nil
	}
}

// BenchmarkPool_getPut is a call's pool work: take an idle instance and
// put it back, from as many goroutines as there are Ps.
func BenchmarkPool_getPut(b *testing.B) {
	ctx := context.Background()
	pl := newPool(64, onePageInstances(b, nil))
	deadline := time.Now().Add(time.Hour)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			inst, _, err := pl.get(ctx, deadline)
			if err != nil {
				b.Error(err)
				return
			}
			pl.put(ctx, inst, true)
		}
	})
}

// TestBenchmarkPool_getPut runs the benchmark once, so that it cannot rot.
func TestBenchmarkPool_getPut(t *testing.T) {
	if res := benchOnce(t, BenchmarkPool_getPut); res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}

// closed reports whether pl.close has run.
func closed(pl *pool) bool {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.closed
}

// TestHost_pool_hostileChurn attacks the pool as a hostile plugin would:
// from eight goroutines, calls that grow memory to the cap, trap or echo,
// mixed. With the idle instances on a stack, the instance put back last is
// the next one out, so one spoiled instance kept by mistake would serve
// the very next call. Afterwards no more instances live than the limit,
// every idle one is open and within the high-water mark (the grown ones
// were recycled, not kept), and the pool's memory figure is theirs.
func TestHost_pool_hostileChurn(t *testing.T) {
	const maxInstances, capPages, highWater = 4, 64, 1 << 20
	h := newTestHost(t, pluginDir(t, "hostile.wasm"), func(c *Config) {
		c.MaxInstances, c.MaxMemoryPages, c.HighWaterBytes = maxInstances, capPages, highWater
		// Traps in a row would open the crash breaker and spare the pool
		// the attack; this test is about the pool.
		c.BreakerThreshold = 1 << 30
	})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 40 {
				id := [...]string{"echo", "grow", "echo", "trap"}[(w+i)%4]
				res, err := h.Call(context.Background(), &Request{ID: id, Payload: []byte("hi")})
				switch {
				case id == "echo" && (err != nil || string(res.Output) != "hi"):
					t.Errorf("echo after hostile calls: %q, %v", res.Output, err)
					return
				case id == "trap" && err == nil:
					t.Error("trap answered")
					return
				}
			}
		})
	}
	wg.Wait()
	p := h.Plugins()[0]
	pl := p.pool
	pl.mu.Lock()
	idle := append([]*instance(nil), pl.idle...)
	pl.mu.Unlock()
	if n := p.Instances(); n > maxInstances || n != len(idle) {
		t.Fatalf("%d instances live, %d idle, want at most %d and all idle", n, len(idle), maxInstances)
	}
	var sum int64
	for i, inst := range idle {
		if inst.mod.IsClosed() {
			t.Fatalf("idle instance %d is closed", i)
		}
		size := int64(inst.mod.Memory().Size())
		if size > highWater {
			t.Fatalf("idle instance %d kept %d bytes of memory, over the %d high-water mark", i, size, highWater)
		}
		sum += size
	}
	if got := p.MemoryBytes(); got != sum {
		t.Fatalf("pool memory %d bytes, its idle instances hold %d", got, sum)
	}
	// The instance the next call takes is one of those, and serves.
	if res, err := h.Call(context.Background(), &Request{ID: "echo", Payload: []byte("hi")}); err != nil || string(res.Output) != "hi" {
		t.Fatalf("echo: %q, %v", res.Output, err)
	}
}

// TestHost_pool_hostileLoops attacks the pool's slots as a hostile plugin
// and its clients would together: calls that loop until the host's
// deadline stops them, on a pool of two instances, from six callers at
// once, half of whom give up (their context ends) at staggered moments.
// Callers then time out waiting just as looping calls end and their slots
// are handed on. Every loop must end with code 4 or code 1, and afterwards
// no slot may stay taken and nobody may wait: a lost slot would leave the
// plugin answering slower, or not at all, for good. The next echo gets an
// idle instance at once.
func TestHost_pool_hostileLoops(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "hostile.wasm"), func(c *Config) {
		c.MaxInstances, c.CallTimeout = 2, 200*time.Millisecond
		c.BreakerThreshold = 1 << 30 // this test is about the pool, not the breaker
	})
	for round := range 3 {
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				ctx := context.Background()
				if i%2 == 1 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, time.Duration(i*40)*time.Millisecond)
					defer cancel()
				}
				_, err := h.Call(ctx, &Request{ID: "loop"})
				var ce *CallError
				if !errors.As(err, &ce) || (ce.Code != abi.CodeDeadlineExceeded && ce.Code != abi.CodeCanceled) {
					t.Errorf("round %d, caller %d: loop ended with %v, want code 4 or 1", round, i, err)
				}
			})
		}
		wg.Wait()
		pl := h.Plugins()[0].pool
		pl.mu.Lock()
		inUse, waiting := pl.inUse, len(pl.waiters)
		pl.mu.Unlock()
		if inUse != 0 || waiting != 0 {
			t.Fatalf("round %d: after every loop, %d slots taken and %d callers waiting, want none", round, inUse, waiting)
		}
		if n := h.Plugins()[0].Instances(); n > 2 {
			t.Fatalf("round %d: %d instances live, the limit is 2", round, n)
		}
		res, err := h.Call(context.Background(), &Request{ID: "echo", Payload: []byte("x")})
		if err != nil || string(res.Output) != "x" {
			t.Fatalf("round %d: echo after the loops = %q, %v", round, res.Output, err)
		}
	}
}
