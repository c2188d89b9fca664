// Package sys is the raw layer of the Warden Go SDK: the warden_v1 imports
// of ABI.md section 3 (sys.go, one //go:wasmimport per host function) and
// thin wrappers that pass Go strings and slices to them as (ptr, len)
// pairs. The wrappers keep each Go value alive until its host call returns
// (runtime.KeepAlive), and the host never keeps a pointer past the call, so
// the garbage collector needs no pinning (ABI.md 1.1).
//
// Outside wasip1 the imports come from an in-process fake host
// (internal/fakehost), so that the SDK's tests run natively.
package sys

import (
	"runtime"
	"unsafe"
)

// Status values of ABI.md 1.2: int32 results are a status, int64 results
// are a length or count >= 0, or a negative status.
const (
	OK            int32 = 0
	NotFound      int32 = -1
	BadArgument   int32 = -2
	LimitExceeded int32 = -6
	Internal      int32 = -9
	DBBusy        int32 = -11
)

// Flags of rpc_register and http_register (ABI.md 3.1, 3.7).
const (
	FlagServerOnly      int32 = 1
	FlagSessionRequired int32 = 2
)

// MaxRandomBytes is the most random_fill fills in one call.
const MaxRandomBytes = 64 << 10

func strPtr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

func bytesPtr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// RPCRegister calls rpc_register: id is served by warden_handle(handlerID).
func RPCRegister(id string, handlerID, flags int32) int32 {
	st := rpc_register(strPtr(id), uint32(len(id)), handlerID, flags)
	runtime.KeepAlive(id)
	return st
}

// HTTPRegister calls http_register for an HTTP handler (ABI 1.1).
func HTTPRegister(pattern, methods string, handlerID, flags int32) int32 {
	st := http_register(strPtr(pattern), uint32(len(pattern)), strPtr(methods), uint32(len(methods)), handlerID, flags)
	runtime.KeepAlive(pattern)
	runtime.KeepAlive(methods)
	return st
}

// InputRead copies input from offset into dst and returns the number of
// bytes copied, or a negative status.
func InputRead(offset int32, dst []byte) int32 {
	n := input_read(offset, bytesPtr(dst), uint32(len(dst)))
	runtime.KeepAlive(dst)
	return n
}

// OutputWrite appends b to the call's output.
func OutputWrite(b []byte) int32 {
	st := output_write(bytesPtr(b), uint32(len(b)))
	runtime.KeepAlive(b)
	return st
}

// ErrorSet sets the call's error code and message.
func ErrorSet(code int32, msg string) int32 {
	st := error_set(code, strPtr(msg), uint32(len(msg)))
	runtime.KeepAlive(msg)
	return st
}

// CtxGet reads context value key with the buffer convention.
func CtxGet(key string) ([]byte, int32) {
	b, st := readBuffer(func(p unsafe.Pointer, n uint32) int64 {
		return ctx_get(strPtr(key), uint32(len(key)), p, n)
	})
	runtime.KeepAlive(key)
	return b, st
}

// Log writes msg to the server log at level.
func Log(level int32, msg string) int32 {
	st := log(level, strPtr(msg), uint32(len(msg)))
	runtime.KeepAlive(msg)
	return st
}

// LogLevel returns the lowest level the server writes, or 7 when off.
func LogLevel() int32 { return log_level() }

// DBEngine returns the database engine: 0 none, 1 SQLite, 2 PostgreSQL.
func DBEngine() int32 { return db_engine() }

// DBExec runs a statement with encoded args; it returns the rows affected
// or a negative status.
func DBExec(sql string, args []byte) int64 {
	n := db_exec(strPtr(sql), uint32(len(sql)), bytesPtr(args), uint32(len(args)))
	runtime.KeepAlive(sql)
	runtime.KeepAlive(args)
	return n
}

// DBQuery runs a query with encoded args; the result goes to the result
// slot, and it returns the result's length or a negative status.
func DBQuery(sql string, args []byte) int64 {
	n := db_query(strPtr(sql), uint32(len(sql)), bytesPtr(args), uint32(len(args)))
	runtime.KeepAlive(sql)
	runtime.KeepAlive(args)
	return n
}

// DBBegin starts a transaction: mode 0 read-only, 1 read-write.
func DBBegin(mode int32) int32 { return db_begin(mode) }

// DBCommit commits the transaction.
func DBCommit() int32 { return db_commit() }

// DBRollback rolls the transaction back.
func DBRollback() int32 { return db_rollback() }

// ResultRead reads and empties the result slot.
func ResultRead() ([]byte, int32) { return readBuffer(result_read) }

// LastError returns the message of the most recent failed host call, and
// false when none failed.
func LastError() (string, bool) {
	b, st := readBuffer(last_error)
	if st != OK {
		return "", false
	}
	return string(b), true
}

// Panic reports msg to the host's panic and traps; it never returns.
func Panic(msg string) {
	reportPanic(msg)
	trap()
}

func reportPanic(msg string) {
	defer runtime.KeepAlive(msg)
	panic(strPtr(msg), uint32(len(msg))) // the import, not the builtin
}

// TimeNow returns the wall-clock time in Unix nanoseconds.
func TimeNow() int64 { return time_now() }

// RandomFill fills b (at most MaxRandomBytes) with secure random bytes.
func RandomFill(b []byte) int32 {
	st := random_fill(bytesPtr(b), uint32(len(b)))
	runtime.KeepAlive(b)
	return st
}

// OutputSetStatus sets an HTTP handler's response status.
func OutputSetStatus(status int32) int32 { return output_set_status(status) }

// OutputAddHeader adds an HTTP handler's response header.
func OutputAddHeader(name, value string) int32 {
	st := output_add_header(strPtr(name), uint32(len(name)), strPtr(value), uint32(len(value)))
	runtime.KeepAlive(name)
	runtime.KeepAlive(value)
	return st
}

// readBuffer reads a variable-size value with the buffer convention
// (ABI.md 1.1, rule 4): call(dst, cap) returns the full length and writes
// only when it fits. Short values take one host call, longer ones two.
func readBuffer(call func(dst unsafe.Pointer, dstCap uint32) int64) ([]byte, int32) {
	buf := make([]byte, 128)
	// The length changes between attempts only if the host misbehaves.
	for range 3 {
		n := call(bytesPtr(buf), uint32(len(buf)))
		runtime.KeepAlive(buf)
		switch {
		case n < 0:
			return nil, int32(n)
		case n <= int64(len(buf)):
			return buf[:n], OK
		}
		buf = make([]byte, n)
	}
	return nil, Internal
}
