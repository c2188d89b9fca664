package host

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/warden-rpc/warden/abi"
)

// instance is one instantiation of a plugin version, with its cached
// warden_handle function, a reusable call stack and its call state.
type instance struct {
	mod    api.Module
	handle api.Function
	// handleStack is the offset of handle's call stack in wazero's call
	// engine (stackFieldOf), or -1 when it cannot be read.
	handleStack int
	stack       []uint64
	cc          *callCtx
	st          callState
	// memBytes is the memory size its pool counted for it.
	memBytes int64
}

// newInstance instantiates p, runs its start function, _initialize and
// warden_init in the init phase, under the call timeout, and checks that
// the registrations match the plugin's (once the probe has set them). When
// ctx ends or the timeout passes, the instance's interrupt flag stops the
// guest.
//
// # Errors
//
// It fails when instantiation or init traps or times out, when init
// returns non-zero, or when the registrations differ from the probe's.
func (p *Plugin) newInstance(ctx context.Context) (*instance, error) {
	inst := &instance{stack: make([]uint64, 2), cc: newCallCtx(p.host.deadlines)}
	inst.st.p = p
	stdout := &lineWriter{log: &p.guestLog, budget: p.logs, level: zerolog.InfoLevel, stream: "stdout"}
	stderr := &lineWriter{log: &p.guestLog, budget: p.logs, level: zerolog.ErrorLevel, stream: "stderr"}
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions().
		WithSysWalltime().WithSysNanotime().WithNanosleep(sleepSlice).WithRandSource(rand.Reader).
		WithStdout(stdout).WithStderr(stderr)

	ctx, cancel := context.WithTimeout(ctx, p.callTimeout)
	defer cancel()
	st := &inst.st
	st.begin(phaseInit, nil, "")
	defer st.end()

	mod, err := p.host.rt.InstantiateModule(ctx, p.compiled, cfg)
	if err != nil {
		inst.cc.release()
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	inst.mod = mod
	if inst.cc.flag, err = interruptFlag(mod); err != nil {
		inst.cc.release()
		_ = mod.Close(ctx)
		return nil, err
	}
	st.cc, st.mod, inst.cc.st = inst.cc, mod, st
	p.host.states.Store(mod, st) // after the flag: Close may interrupt any stored instance
	interrupting := context.AfterFunc(ctx, inst.cc.interrupt)
	err = inst.runInit(ctx)
	if !interrupting() && err == nil {
		// The deadline came as init returned: the flag is, or is being,
		// set, and the instance could never serve.
		err = fmt.Errorf("init: %w", context.Cause(ctx))
	}
	if err != nil {
		inst.close(context.WithoutCancel(ctx))
		return nil, err
	}
	if p.regs != nil && !slices.Equal(p.regs, st.regs) {
		inst.close(context.WithoutCancel(ctx))
		return nil, errors.New("init registered different rpcs than the first instance")
	}
	inst.handle = mod.ExportedFunction(abi.ExportHandle)
	inst.handleStack = -1
	if off, ok := stackFieldOf(reflect.TypeOf(inst.handle)); ok {
		inst.handleStack = int(off)
	}
	return inst, nil
}

// unavailableInit is an init that failed with UNAVAILABLE (code 14), as a
// plugin's init does when its database is out of reach (DB_BUSY): a call
// that needed a new instance then fails with code 14 (503), retryable,
// rather than 13.
type unavailableInit struct{ error }

// Unwrap returns the init's error.
func (e unavailableInit) Unwrap() error { return e.error }

// runInit calls the start function and _initialize (each when exported)
// and warden_init.
func (inst *instance) runInit(ctx context.Context) error {
	st := &inst.st
	if f := inst.mod.ExportedFunction(abi.ExportStart); f != nil {
		if _, err := f.Call(ctx); err != nil {
			return fmt.Errorf("start function: %w", st.trapError(ctx, err))
		}
	}
	if f := inst.mod.ExportedFunction(abi.ExportInitialize); f != nil {
		if _, err := f.Call(ctx); err != nil {
			return fmt.Errorf("%s: %w", abi.ExportInitialize, st.trapError(ctx, err))
		}
	}
	res, err := inst.mod.ExportedFunction(abi.ExportInit).Call(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", abi.ExportInit, st.trapError(ctx, err))
	}
	if st.panicked {
		return fmt.Errorf("%s: panic: %s", abi.ExportInit, st.panicMsg)
	}
	if rc := int32(res[0]); rc != 0 {
		if st.errSet {
			err := fmt.Errorf("%s returned %d: code %d: %s", abi.ExportInit, rc, st.errCode, st.errMsg)
			if st.errCode == abi.CodeUnavailable {
				return unavailableInit{err} // its database is away, say: retryable
			}
			return err
		}
		return fmt.Errorf("%s returned %d", abi.ExportInit, rc)
	}
	return nil
}

// trapError describes a failed guest call: the panic message when the guest
// gave one, the deadline when it passed, else the first line of the trap.
func (st *callState) trapError(ctx context.Context, err error) error {
	switch {
	case st.panicked:
		return fmt.Errorf("panic: %s", st.panicMsg)
	case ctx.Err() != nil:
		return fmt.Errorf("%w", ctx.Err())
	case st.mod != nil && stackOverflowed(st.mod):
		return fmt.Errorf("stack overflow (the call went deeper than %d slots of call stack)", abi.MaxCallStackSlots)
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return errors.New(msg)
}

// stackOverflowed reports whether the guest's call-stack count is past
// abi.MaxCallStackSlots: it trapped for that.
func stackOverflowed(mod api.Module) bool {
	g := mod.ExportedGlobal(abi.ExportCallStack)
	return g != nil && uint32(g.Get()) > abi.MaxCallStackSlots
}

// stackGrown reports whether the call stack wazero keeps for the
// instance's handler grew past maxKeptCallStack.
func (inst *instance) stackGrown() bool {
	return inst.handleStack >= 0 && callStackBytes(inst.handle, uintptr(inst.handleStack)) > maxKeptCallStack
}

// close closes the instance's module; it is never used again.
func (inst *instance) close(ctx context.Context) {
	inst.cc.release()
	if inst.mod != nil {
		inst.st.p.host.states.Delete(inst.mod)
		_ = inst.mod.Close(ctx) // closing a module that trapped or timed out can only fail harmlessly
	}
}

// call runs warden_handle for one request on inst and reports whether the
// instance may be reused.
func (inst *instance) call(cc *callCtx, e *rpcEntry, req *Request) (Result, bool, error) {
	st := &inst.st
	st.begin(phaseHandle, req, e.id)
	defer st.end()
	inst.stack[0] = uint64(uint32(e.handlerID))
	inst.stack[1] = uint64(uint32(len(req.Payload)))
	err := inst.handle.CallWithStack(cc, inst.stack)
	if err == nil && cc.expired.Load() {
		// The guest returned as the deadline passed, maybe from a host
		// call that the deadline ended, before a check saw the flag: the
		// call failed, as when wazero closed the module at the deadline.
		err = context.DeadlineExceeded
	}
	p := e.plugin
	if err != nil || st.panicked {
		if err == nil {
			err = errors.New("guest returned after panic")
		}
		return Result{}, false, st.callError(cc, err)
	}
	if rc := int32(inst.stack[0]); rc != 0 {
		ce := &CallError{Code: abi.CodeInternal, Message: fmt.Sprintf("rpc returned %d without an error", rc), Plugin: p.Name, Version: p.Version}
		switch {
		case errors.Is(cc.Err(), context.DeadlineExceeded):
			// The guest failed because a host call hit the deadline.
			ce.Code, ce.Message = abi.CodeDeadlineExceeded, "rpc exceeded its deadline"
		case cc.Err() != nil:
			// The client went away, and a host call told the guest so.
			ce.Code, ce.Message = abi.CodeCanceled, "rpc canceled"
		case st.errSet:
			ce.Code, ce.Message = st.errCode, st.errMsg
		}
		return Result{}, true, ce
	}
	res := Result{Output: st.output, Plugin: p.Name, Version: p.Version}
	if req.HTTP != nil {
		res.Status, res.Headers = st.status, st.headers
		if res.Status == 0 {
			res.Status = 200
		}
	}
	return res, true, nil
}

// callError turns a trap, panic or deadline into the client's CallError.
func (st *callState) callError(ctx context.Context, err error) *CallError {
	p := st.p
	ce := &CallError{Code: abi.CodeInternal, Plugin: p.Name, Version: p.Version, Err: err}
	switch {
	case st.panicked:
		ce.Message = "panic: " + st.panicMsg
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		ce.Code, ce.Message = abi.CodeDeadlineExceeded, "rpc exceeded its deadline"
	case ctx.Err() != nil:
		ce.Code, ce.Message = abi.CodeCanceled, "rpc canceled"
	default:
		ce.Message = "plugin trapped: " + st.trapError(ctx, err).Error()
	}
	return ce
}
