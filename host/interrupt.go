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
// The rewriter reads the module before wazero: a malformed module, one
// with counts that would exhaust memory, a reserved export, a reference to
// a global past its own or no memory get the rewriter's error
// ("instrument: ..."); the rest get wazero's ("compile: ...").
func (h *Host) compile(ctx context.Context, wasm []byte) (wazero.CompiledModule, error) {
	out, err := interrupt.Instrument(wasm)
	if err != nil {
		// Not a fallback to compiling wasm for wazero's own message: a
		// module the rewriter refuses for its counts would make wazero
		// allocate gigabytes.
		return nil, fmt.Errorf("instrument: %w", err)
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
