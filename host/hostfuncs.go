package host

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/warden-rpc/warden/abi"
)

// hostFunc is one ABI import. It runs with the call's state and the calling
// module's memory; params and results are on stack as wazero passes them.
type hostFunc func(ctx context.Context, st *callState, m api.Memory, stack []uint64)

// hostFuncs returns the implementation of every ABI import, with the phases
// in which each may run. The set must equal abi.Imports(); a test checks it.
func hostFuncs() map[string]struct {
	fn     hostFunc
	phases phaseSet
} {
	type entry = struct {
		fn     hostFunc
		phases phaseSet
	}
	return map[string]entry{
		abi.FuncRPCRegister: {rpcRegister, inInit},
		abi.FuncInputRead:   {inputRead, inHandle},
		abi.FuncOutputWrite: {outputWrite, inHandle},
		abi.FuncErrorSet:    {errorSet, inAny},
		abi.FuncCtxGet:      {ctxGet, inAny},
		abi.FuncLog:         {logWrite, inAny},
		abi.FuncLogLevel:    {logLevel, inAny},
		abi.FuncDBEngine:    {dbEngine, inAny},
		abi.FuncDBExec:      {dbExec, inAny},
		abi.FuncDBQuery:     {dbQuery, inAny},
		abi.FuncDBBegin:     {dbBegin, inAny},
		abi.FuncDBCommit:    {dbCommit, inAny},
		abi.FuncDBRollback:  {dbRollback, inAny},
		abi.FuncResultRead:  {resultRead, inAny},
		abi.FuncLastError:   {lastError, inAny},
		abi.FuncPanic:       {guestPanic, inAny},
		abi.FuncTimeNow:     {timeNow, inAny},
		abi.FuncRandomFill:  {randomFill, inAny},

		abi.FuncHTTPRegister:    {httpRegister, inInit},
		abi.FuncOutputSetStatus: {outputSetStatus, inHandle},
		abi.FuncOutputAddHeader: {outputAddHeader, inHandle},

		abi.FuncHTTPRequest: {httpRequest, inHandle},
	}
}

// phaseSet says in which phases a host function may run.
type phaseSet uint8

const (
	inInit   phaseSet = 1 << phaseInit
	inHandle phaseSet = 1 << phaseHandle
	inAny             = inInit | inHandle
)

// instantiateABI builds the warden_v1 host module in r, one GoModuleFunc per
// abi.Imports() entry.
func instantiateABI(ctx context.Context, r wazero.Runtime, stateOf func(context.Context, api.Module) *callState) error {
	funcs := hostFuncs()
	b := r.NewHostModuleBuilder(abi.ModuleName)
	for _, f := range abi.Imports() {
		e, ok := funcs[f.Name]
		if !ok {
			panic("host: no implementation for ABI import " + f.Name) // host bug, caught by tests
		}
		b.NewFunctionBuilder().
			WithGoModuleFunction(wrap(stateOf, e.fn, e.phases, f.Results), valueTypes(f.Params), valueTypes(f.Results)).
			Export(f.Name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("instantiate %s: %w", abi.ModuleName, err)
	}
	return nil
}

// wrap adapts fn to wazero: it finds the calling instance's state, enforces the phase, and
// answers NOT_ALLOWED (in the result's width) when either check fails.
func wrap(stateOf func(context.Context, api.Module) *callState, fn hostFunc, phases phaseSet, results []abi.ValType) api.GoModuleFunc {
	hasResult := len(results) > 0
	wide := hasResult && results[0] == abi.I64
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		st := stateOf(ctx, mod)
		if st == nil || phases&(1<<st.phase) == 0 {
			if st != nil {
				st.fail(abi.StatusNotAllowed, "not allowed in this phase")
			}
			if hasResult {
				if wide {
					retLen(stack, int64(abi.StatusNotAllowed))
				} else {
					retStatus(stack, int32(abi.StatusNotAllowed))
				}
			}
			return
		}
		fn(ctx, st, mod.Memory(), stack)
	}
}

func valueTypes(ts []abi.ValType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		if t == abi.I64 {
			out[i] = api.ValueTypeI64
		} else {
			out[i] = api.ValueTypeI32
		}
	}
	return out
}

// rpcRegister: (id_ptr, id_len, handler_id, flags) -> status. Reads the id
// from guest memory (borrowed) and records the registration.
func rpcRegister(_ context.Context, st *callState, m api.Memory, stack []uint64) {
	idLen, flags := u32(stack, 1), abi.RegisterFlag(i32(stack, 3))
	if idLen == 0 || idLen > abi.MaxIDBytes {
		status(stack, st.fail(abi.StatusBadArgument, "rpc id must be 1..128 bytes"))
		return
	}
	b, ok := guestRead(m, u32(stack, 0), idLen)
	if !ok {
		status(stack, st.fail(abi.StatusInvalidMemory, "rpc id out of bounds"))
		return
	}
	if !utf8.Valid(b) || flags&^abi.FlagServerOnly != 0 {
		status(stack, st.fail(abi.StatusBadArgument, "rpc id is not UTF-8 or flags are unknown"))
		return
	}
	id := strings.ToLower(string(b))
	rpcs := 0
	for _, r := range st.regs {
		if !r.HTTP && r.ID == id {
			status(stack, st.fail(abi.StatusAlreadyExists, "rpc "+id+" is registered already"))
			return
		}
		if !r.HTTP {
			rpcs++
		}
	}
	if rpcs >= abi.MaxRPCsPerPlugin {
		status(stack, st.fail(abi.StatusLimitExceeded, "too many rpcs"))
		return
	}
	st.regs = append(st.regs, registration{ID: id, HandlerID: i32(stack, 2), Flags: flags})
	status(stack, abi.StatusOK)
}

// inputRead: (offset, dst_ptr, dst_len) -> bytes copied or status. Copies
// input into the guest's buffer.
func inputRead(_ context.Context, st *callState, m api.Memory, stack []uint64) {
	off, dst, n := i32(stack, 0), u32(stack, 1), u32(stack, 2)
	if off < 0 {
		status(stack, st.fail(abi.StatusBadArgument, "negative offset"))
		return
	}
	if !guestRange(m, dst, n) {
		status(stack, st.fail(abi.StatusInvalidMemory, "input buffer out of bounds"))
		return
	}
	in := st.req.Payload
	if int(off) >= len(in) {
		retStatus(stack, 0)
		return
	}
	in = in[off:]
	if uint64(len(in)) > uint64(n) {
		in = in[:n]
	}
	guestWrite(m, dst, in)
	retStatus(stack, int32(len(in)))
}

// outputWrite: (src_ptr, src_len) -> status. Appends a copy to the output.
func outputWrite(_ context.Context, st *callState, m api.Memory, stack []uint64) {
	n := u32(stack, 1)
	if uint64(len(st.output))+uint64(n) > uint64(st.p.host.cfg.MaxOutputBytes) {
		status(stack, st.fail(abi.StatusLimitExceeded, "output over the limit"))
		return
	}
	b, ok := guestRead(m, u32(stack, 0), n)
	if !ok {
		status(stack, st.fail(abi.StatusInvalidMemory, "output out of bounds"))
		return
	}
	st.output = append(st.output, b...)
	status(stack, abi.StatusOK)
}

// errorSet: (code, msg_ptr, msg_len) -> status. Records the call's error.
func errorSet(_ context.Context, st *callState, m api.Memory, stack []uint64) {
	msg, s := readMessage(m, u32(stack, 1), u32(stack, 2), abi.MaxErrorBytes)
	if s != abi.StatusOK {
		status(stack, st.fail(s, "error message out of bounds"))
		return
	}
	st.errSet, st.errCode, st.errMsg = true, abi.Code(i32(stack, 0)).Normalize(), msg
	status(stack, abi.StatusOK)
}

// ctxGet: (key_ptr, key_len, dst_ptr, dst_cap) -> length or -status. The
// value is written only when it fits (buffer convention).
func ctxGet(_ context.Context, st *callState, m api.Memory, stack []uint64) {
	kn := u32(stack, 1)
	if kn > abi.MaxCtxKeyBytes {
		lenOrStatus(stack, 0, st.fail(abi.StatusBadArgument, "context key too long"))
		return
	}
	k, ok := guestRead(m, u32(stack, 0), kn)
	if !ok {
		lenOrStatus(stack, 0, st.fail(abi.StatusInvalidMemory, "context key out of bounds"))
		return
	}
	v, found := st.ctxValue(string(k))
	if !found {
		lenOrStatus(stack, 0, st.fail(abi.StatusNotFound, "context key "+string(k)+" is absent"))
		return
	}
	writeBuffered(st, m, stack, v)
}

// logWrite: (level, msg_ptr, msg_len) -> status. Logs at the guest's level,
// tagged with plugin, version, rpc id and trace id, and spends a line of the
// plugin's log budget: a line over it is dropped unread and counted, and
// the status is OK all the same. The message is borrowed, and copied.
func logWrite(_ context.Context, st *callState, m api.Memory, stack []uint64) {
	lvl := abi.LogLevel(i32(stack, 0))
	if lvl < abi.LogDebug || lvl > abi.LogError {
		status(stack, st.fail(abi.StatusBadArgument, "unknown log level"))
		return
	}
	ev := st.p.guestLog.WithLevel(zerolog.Level(lvl))
	if ev == nil { // level disabled: skip reading the message
		status(stack, abi.StatusOK)
		return
	}
	b, ok := guestRead(m, u32(stack, 1), u32(stack, 2)) // a view: copied only if the budget allows
	if !ok {
		ev.Discard()
		status(stack, st.fail(abi.StatusInvalidMemory, "log message out of bounds"))
		return
	}
	if !st.p.logs.take() {
		ev.Discard()
		status(stack, abi.StatusOK)
		return
	}
	msg := message(b, abi.MaxLogBytes)
	if st.rpcID != "" {
		ev = ev.Str("rpc_id", st.rpcID)
	}
	if st.req != nil {
		if id := st.req.TraceID(); id != "" {
			ev = ev.Str("trace_id", id)
		}
	}
	ev.Msg(msg)
	status(stack, abi.StatusOK)
}

// logLevel: () -> level. The lowest level written, or LogDisabled.
func logLevel(_ context.Context, st *callState, _ api.Memory, stack []uint64) {
	lvl := max(st.p.log.GetLevel(), zerolog.GlobalLevel())
	switch {
	case lvl < zerolog.DebugLevel:
		lvl = zerolog.DebugLevel
	case lvl > zerolog.ErrorLevel:
		retStatus(stack, int32(abi.LogDisabled))
		return
	}
	retStatus(stack, int32(lvl))
}

// lastError: (dst_ptr, dst_cap) -> length or -status. The message of the
// most recent failed host call, with the buffer convention.
func lastError(_ context.Context, st *callState, m api.Memory, stack []uint64) {
	if !st.hasLastErr {
		retLen(stack, int64(abi.StatusNotFound))
		return
	}
	writeBufferedAt(st, m, stack, 0, st.lastErr)
}

// guestPanic: (msg_ptr, msg_len) -> (). Records the panic message; the guest
// traps next, and the call fails with code 13 whatever it does.
func guestPanic(_ context.Context, st *callState, m api.Memory, stack []uint64) {
	msg, s := readMessage(m, u32(stack, 0), u32(stack, 1), abi.MaxErrorBytes)
	if s != abi.StatusOK {
		msg = "(panic message out of bounds)"
	}
	st.panicked, st.panicMsg = true, msg
}

// timeNow: () -> Unix nanoseconds.
func timeNow(_ context.Context, _ *callState, _ api.Memory, stack []uint64) {
	retLen(stack, now())
}

// randomFill: (dst_ptr, dst_len) -> status. Fills the guest's buffer from
// crypto/rand.
func randomFill(_ context.Context, st *callState, m api.Memory, stack []uint64) {
	n := u32(stack, 1)
	if n > abi.MaxRandomBytes {
		status(stack, st.fail(abi.StatusLimitExceeded, "random_fill over 64 KiB"))
		return
	}
	b, ok := guestRead(m, u32(stack, 0), n)
	if !ok {
		status(stack, st.fail(abi.StatusInvalidMemory, "random buffer out of bounds"))
		return
	}
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	status(stack, abi.StatusOK)
}

// now is the host clock; a variable of the Host config would be overkill.
func now() int64 { return time.Now().UnixNano() }
