package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/interrupt"
)

// compile instruments wasm (package interrupt) and compiles the result:
// the guest then traps at its next function entry or loop iteration once
// its instance's flag is set, so the runtime needs no goroutine per call
// to watch the context. wasm is left as it is, for storing and hashing.
//
// # Errors
//
// A module that wazero or the ABI checks refuse gets their error, as it
// did before the rewrite; one that only the rewriter refuses (a reserved
// export, a reference to a global past its own) gets the rewriter's.
func (h *Host) compile(ctx context.Context, wasm []byte) (wazero.CompiledModule, error) {
	out, ierr := interrupt.Instrument(wasm)
	if ierr != nil {
		c, err := h.rt.CompileModule(ctx, wasm)
		if err != nil {
			return nil, fmt.Errorf("compile: %w", err)
		}
		err = validate(c, h.provided) // a module with no memory, say, fails here as before
		_ = c.Close(ctx)
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("instrument: %w", ierr)
	}
	c, err := h.rt.CompileModule(ctx, out)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	return c, nil
}

// interruptFlag returns mod's interrupt flag, the global that Instrument
// added.
func interruptFlag(mod api.Module) (api.MutableGlobal, error) {
	flag, ok := mod.ExportedGlobal(abi.ExportInterrupt).(api.MutableGlobal)
	if !ok {
		return nil, errors.New("the module was not instrumented: no interrupt flag")
	}
	return flag, nil
}

// interrupt sets the instance's flag, once: the guest traps at its next
// function entry or loop iteration, and the instance is never used again.
// Only the deadline's timer (expire) and the init deadline call it; the
// flag is never written from Go otherwise.
func (c *callCtx) interrupt() {
	if c.flag != nil && c.interrupted.CompareAndSwap(false, true) {
		c.flag.Set(1)
	}
}

// interruptAll sets the interrupt flag of every live instance: Close ends
// the calls still running at their next function entry or loop iteration,
// as wazero did when it closed their modules. Those instances are never
// used again: their pools are closing.
func (h *Host) interruptAll() {
	h.states.Range(func(_, v any) bool {
		v.(*callState).cc.interrupt()
		return true
	})
}
