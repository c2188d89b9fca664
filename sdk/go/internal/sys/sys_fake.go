//go:build !wasip1

package sys

import (
	"time"
	"unsafe"

	"github.com/warden-rpc/warden/sdk/go/internal/fakehost"
)

// Outside wasip1 the imports forward to the in-process fake host, with the
// same signatures as sys.go.

func str(p unsafe.Pointer, n uint32) string { return unsafe.String((*byte)(p), int(n)) }

func bytes(p unsafe.Pointer, n uint32) []byte { return unsafe.Slice((*byte)(p), int(n)) }

func rpc_register(idPtr unsafe.Pointer, idLen uint32, handlerID int32, flags int32) int32 {
	return fakehost.Get().RPCRegister(str(idPtr, idLen), handlerID, flags)
}

func input_read(offset int32, dstPtr unsafe.Pointer, dstLen uint32) int32 {
	return fakehost.Get().InputRead(offset, bytes(dstPtr, dstLen))
}

func output_write(srcPtr unsafe.Pointer, srcLen uint32) int32 {
	return fakehost.Get().OutputWrite(bytes(srcPtr, srcLen))
}

func error_set(code int32, msgPtr unsafe.Pointer, msgLen uint32) int32 {
	return fakehost.Get().ErrorSet(code, str(msgPtr, msgLen))
}

func ctx_get(keyPtr unsafe.Pointer, keyLen uint32, dstPtr unsafe.Pointer, dstCap uint32) int64 {
	return fakehost.Get().CtxGet(str(keyPtr, keyLen), bytes(dstPtr, dstCap))
}

func log(level int32, msgPtr unsafe.Pointer, msgLen uint32) int32 {
	return fakehost.Get().Log(level, str(msgPtr, msgLen))
}

func log_level() int32 { return fakehost.Get().Level }

func db_engine() int32 { return 1 }

func db_exec(sqlPtr unsafe.Pointer, sqlLen uint32, argsPtr unsafe.Pointer, argsLen uint32) int64 {
	return fakehost.Get().DBExec(str(sqlPtr, sqlLen), bytes(argsPtr, argsLen))
}

func db_query(sqlPtr unsafe.Pointer, sqlLen uint32, argsPtr unsafe.Pointer, argsLen uint32) int64 {
	return fakehost.Get().DBQuery(str(sqlPtr, sqlLen), bytes(argsPtr, argsLen))
}

func db_begin(mode int32) int32 {
	return fakehost.Get().DBMark(map[int32]string{0: "BEGIN 0", 1: "BEGIN 1"}[mode])
}

func db_commit() int32 { return fakehost.Get().DBMark("COMMIT") }

func db_rollback() int32 { return fakehost.Get().DBMark("ROLLBACK") }

func result_read(dstPtr unsafe.Pointer, dstCap uint32) int64 {
	return fakehost.Get().ResultRead(bytes(dstPtr, dstCap))
}

func last_error(dstPtr unsafe.Pointer, dstCap uint32) int64 {
	return fakehost.Get().LastError(bytes(dstPtr, dstCap))
}

func panic(msgPtr unsafe.Pointer, msgLen uint32) {
	fakehost.Get().Panic(str(msgPtr, msgLen))
}

func time_now() int64 { return time.Now().UnixNano() }

func random_fill(dstPtr unsafe.Pointer, dstLen uint32) int32 {
	return fakehost.Get().RandomFill(bytes(dstPtr, dstLen))
}

func http_register(patternPtr unsafe.Pointer, patternLen uint32, methodsPtr unsafe.Pointer, methodsLen uint32, handlerID int32, flags int32) int32 {
	return fakehost.Get().HTTPRegister(str(patternPtr, patternLen), str(methodsPtr, methodsLen), handlerID, flags)
}

func output_set_status(status int32) int32 { return fakehost.Get().OutputSetStatus(status) }

func output_add_header(namePtr unsafe.Pointer, nameLen uint32, valuePtr unsafe.Pointer, valueLen uint32) int32 {
	return fakehost.Get().OutputAddHeader(str(namePtr, nameLen), str(valuePtr, valueLen))
}

func trap() { fakehost.Trap() }
