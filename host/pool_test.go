package host

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
)

// TestPool_putCloseRace puts instances back from many goroutines while the
// pool closes, round after round: every instance the pool made must end
// closed, exactly once (live back to 0, never below), and none may be left
// in idle. A put that saw the pool open but sent its instance to idle after
// close had drained it leaked that instance and its memory. The instances
// are real wazero modules of one page of memory, cheap to make.
func TestPool_putCloseRace(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, t.TempDir(), nil)
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	// (module (memory 1))
	compiled, err := rt.CompileModule(ctx, []byte("\x00asm\x01\x00\x00\x00\x05\x03\x01\x00\x01"))
	if err != nil {
		t.Fatal(err)
	}
	p := &Plugin{host: h}
	const rounds, goroutines, size = 100, 8, 8
	for round := range rounds {
		var mu sync.Mutex
		var made []*instance
		pl := newPool(size, func(ctx context.Context) (*instance, error) {
			mod, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				return nil, err
			}
			inst := &instance{mod: mod, cc: newCallCtx(h.deadlines)}
			inst.st.p = p
			mu.Lock()
			made = append(made, inst)
			mu.Unlock()
			return inst, nil
		})
		var puts atomic.Int64
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for !pl.closed.Load() {
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
		if n := len(pl.idle); n != 0 {
			t.Fatalf("round %d: %d instances left idle after close", round, n)
		}
		for i, inst := range made {
			if !inst.mod.IsClosed() {
				t.Fatalf("round %d: instance %d of %d never closed", round, i, len(made))
			}
		}
	}
}
