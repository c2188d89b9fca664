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

// readModule reads wasm with package interrupt, once, and refuses a module
// that declares more than the host's module limits (checkModuleLimits) on
// the counts of the original bytes, before anything is allocated by them.
//
// # Errors
//
// A malformed module, one with counts larger than its bytes could hold, a
// reserved import or export, or a reference to a global past its own get
// the rewriter's error ("instrument: ..."); a module over the limits gets
// checkModuleLimits's.
func readModule(wasm []byte) (*interrupt.Module, error) {
	m, err := interrupt.Read(wasm)
	if err != nil {
		return nil, fmt.Errorf("instrument: %w", err)
	}
	if err := checkModuleLimits(m.Decls()); err != nil {
		return nil, err
	}
	return m, nil
}

// compile instruments m (package interrupt) and compiles the result: the
// guest then traps at its next function entry or loop iteration once its
// instance's flag is set, so the runtime needs no goroutine per call to
// watch the context. The plugin's bytes are left as they are, for storing
// and hashing.
//
// # Errors
//
// The rewriter reads the code before wazero: a malformed function, one
// with more locals than the limit, a reference to a global past the
// module's own or no memory get the rewriter's error ("instrument: ...");
// the rest get wazero's ("compile: ...").
//
// It also returns the compiled code's cacheKey, whose files in the compile
// cache it records when the cache is pruned (Config.PruneCache).
func (h *Host) compile(ctx context.Context, m *interrupt.Module) (wazero.CompiledModule, string, error) {
	out, err := m.Instrument()
	if err != nil {
		// Not a fallback to compiling the original for wazero's own
		// message: a module the rewriter refuses for its counts would
		// make wazero allocate gigabytes.
		return nil, "", fmt.Errorf("instrument: %w", err)
	}
	key := cacheKey(out)
	var before map[string]bool
	if h.cacheFiles != nil {
		before = h.cacheFiles.list()
	}
	c, err := h.rt.CompileModule(ctx, out)
	if h.cacheFiles != nil {
		h.cacheFiles.compiled(key, before)
	}
	if err != nil {
		return nil, "", fmt.Errorf("compile: %w", err)
	}
	return c, key, nil
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
