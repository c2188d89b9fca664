// Package fakehost is an in-process stand-in for the Warden host, with the
// semantics of the warden_v1 imports, so that the SDK's tests run natively
// (outside wasip1 the raw layer in internal/sys forwards here). It is
// single-threaded, like a wasm instance: tests that use it must not run in
// parallel.
package fakehost

import "strings"

// Status values the fake returns (ABI.md 1.2).
const (
	ok            = 0
	notFound      = -1
	notAllowed    = -4
	alreadyExists = -5
	dbError       = -7
	dbBusy        = -11
)

// Registration is one rpc_register or http_register call.
type Registration struct {
	ID        string // the RPC id, lowercased, or the HTTP pattern
	Methods   string // HTTP handlers only
	HandlerID int32
	Flags     int32
}

// LogLine is one log call.
type LogLine struct {
	Level int32
	Msg   string
}

// Host is the fake host's state. Tests set the inputs (Input, Ctx, Level,
// DBResult, DBAffected, Init) and read the rest afterwards.
type Host struct {
	Init       bool // the phase: true for init, false for handle
	Input      []byte
	Output     []byte
	ErrSet     bool
	ErrCode    int32
	ErrMsg     string
	Ctx        map[string][]byte
	Logs       []LogLine
	Level      int32
	Registered []Registration
	LastErr    string
	HasLastErr bool
	Panicked   bool
	PanicMsg   string
	// DBResult is the encoded result db_query puts in the result slot; nil
	// makes db_query fail with DB_ERROR.
	DBResult   []byte
	DBAffected int64
	// DBLog records each statement, "BEGIN n", "COMMIT" and "ROLLBACK".
	DBLog []string
	// DBArgs records the encoded arguments of each statement.
	DBArgs [][]byte
	// CommitBusy makes the next CommitBusy db_commit calls fail with
	// DB_BUSY; ExecStatus, when not zero, is the status of every db_exec.
	CommitBusy int
	ExecStatus int32
	Status     int32
	Headers    [][2]string
	// HTTPRequests records each encoded http_request request (ABI 1.2).
	HTTPRequests [][]byte
	// HTTPResponse is the encoded response http_request puts in the result
	// slot; nil makes it fail with HTTPFail (NOT_GRANTED when 0) and
	// HTTPFailMsg.
	HTTPResponse []byte
	HTTPFail     int32
	HTTPFailMsg  string
	slot         []byte
	slotFilled   bool
}

var h = &Host{}

// Reset replaces the fake host's state with a fresh one and returns it.
func Reset() *Host {
	h = &Host{Ctx: map[string][]byte{}}
	return h
}

// Get returns the fake host's current state.
func Get() *Host { return h }

// Trapped is the value the fake's trap panics with.
type Trapped struct{}

// Trap stands for the wasm instruction unreachable: it panics with Trapped.
func Trap() { panic(Trapped{}) }

func (h *Host) fail(st int32, msg string) int32 {
	h.LastErr, h.HasLastErr = msg, true
	return st
}

// put applies the buffer convention.
func put(v, dst []byte) int64 {
	if len(v) <= len(dst) {
		copy(dst, v)
	}
	return int64(len(v))
}

// RPCRegister is rpc_register.
func (h *Host) RPCRegister(id string, handlerID, flags int32) int32 {
	if !h.Init {
		return h.fail(notAllowed, "rpc_register is not allowed in handle")
	}
	id = strings.ToLower(id)
	for _, r := range h.Registered {
		if r.ID == id && r.Methods == "" {
			return h.fail(alreadyExists, "rpc "+id+" is registered already")
		}
	}
	h.Registered = append(h.Registered, Registration{ID: id, HandlerID: handlerID, Flags: flags})
	return ok
}

// HTTPRegister is http_register.
func (h *Host) HTTPRegister(pattern, methods string, handlerID, flags int32) int32 {
	if !h.Init {
		return h.fail(notAllowed, "http_register is not allowed in handle")
	}
	if methods == "" {
		methods = "GET,HEAD,POST,PUT,PATCH,DELETE"
	}
	h.Registered = append(h.Registered, Registration{ID: pattern, Methods: methods, HandlerID: handlerID, Flags: flags})
	return ok
}

// InputRead is input_read.
func (h *Host) InputRead(offset int32, dst []byte) int32 {
	if int(offset) >= len(h.Input) {
		return 0
	}
	return int32(copy(dst, h.Input[offset:]))
}

// OutputWrite is output_write.
func (h *Host) OutputWrite(b []byte) int32 {
	h.Output = append(h.Output, b...)
	return ok
}

// ErrorSet is error_set.
func (h *Host) ErrorSet(code int32, msg string) int32 {
	h.ErrSet, h.ErrCode, h.ErrMsg = true, code, msg
	return ok
}

// CtxGet is ctx_get.
func (h *Host) CtxGet(key string, dst []byte) int64 {
	v, found := h.Ctx[key]
	if !found {
		return int64(h.fail(notFound, "no context value "+key))
	}
	return put(v, dst)
}

// Log is log.
func (h *Host) Log(level int32, msg string) int32 {
	h.Logs = append(h.Logs, LogLine{level, msg})
	return ok
}

func (h *Host) stmt(sql string, args []byte) {
	h.DBLog = append(h.DBLog, sql)
	h.DBArgs = append(h.DBArgs, append([]byte(nil), args...))
}

// DBExec is db_exec.
func (h *Host) DBExec(sql string, args []byte) int64 {
	h.stmt(sql, args)
	if h.ExecStatus != 0 {
		return int64(h.fail(h.ExecStatus, "fake failure"))
	}
	return h.DBAffected
}

// DBQuery is db_query.
func (h *Host) DBQuery(sql string, args []byte) int64 {
	h.stmt(sql, args)
	if h.DBResult == nil {
		return int64(h.fail(dbError, "no such table: fake"))
	}
	h.slot, h.slotFilled = h.DBResult, true
	return int64(len(h.slot))
}

// DBMark records BEGIN, COMMIT or ROLLBACK.
func (h *Host) DBMark(s string) int32 {
	h.DBLog = append(h.DBLog, s)
	h.DBArgs = append(h.DBArgs, nil)
	if s == "COMMIT" && h.CommitBusy > 0 {
		h.CommitBusy--
		return h.fail(dbBusy, "could not serialize access")
	}
	return ok
}

// ResultRead is result_read.
func (h *Host) ResultRead(dst []byte) int64 {
	if !h.slotFilled {
		return int64(h.fail(notFound, "result slot is empty"))
	}
	n := put(h.slot, dst)
	if n <= int64(len(dst)) {
		h.slot, h.slotFilled = nil, false
	}
	return n
}

// LastError is last_error.
func (h *Host) LastError(dst []byte) int64 {
	if !h.HasLastErr {
		return notFound
	}
	return put([]byte(h.LastErr), dst)
}

// Panic is panic.
func (h *Host) Panic(msg string) { h.Panicked, h.PanicMsg = true, msg }

// RandomFill fills b with a fixed pattern: enough for tests of the wrapper.
func (h *Host) RandomFill(b []byte) int32 {
	for i := range b {
		b[i] = byte(i)
	}
	return ok
}

// OutputSetStatus is output_set_status.
func (h *Host) OutputSetStatus(status int32) int32 {
	h.Status = status
	return ok
}

// OutputAddHeader is output_add_header.
func (h *Host) OutputAddHeader(name, value string) int32 {
	h.Headers = append(h.Headers, [2]string{name, value})
	return ok
}
