//go:build wasip1

package sys

import "unsafe"

// The raw imports of module warden_v1, one per host function of ABI.md
// section 3, in its order and with its parameter names. abi/contract_test.go
// parses this block, so keep its shape: a //go:wasmimport line, then a func
// line whose parameter types are unsafe.Pointer, uint32 or int32 (wasm i32)
// or int64, uint64 (wasm i64), with at most one result.
//
// Memory (ABI.md 1.1): each pointer is borrowed for the duration of the call
// only, and the host writes only inside a (dst_ptr, dst_cap) range of the
// same call. The wrappers in call.go keep the Go memory alive across the
// call; nothing here retains a pointer.
//
// The import named panic shadows Go's builtin inside this package, so the
// package never calls the builtin.

//go:wasmimport warden_v1 rpc_register
func rpc_register(idPtr unsafe.Pointer, idLen uint32, handlerID int32, flags int32) int32

//go:wasmimport warden_v1 input_read
func input_read(offset int32, dstPtr unsafe.Pointer, dstLen uint32) int32

//go:wasmimport warden_v1 output_write
func output_write(srcPtr unsafe.Pointer, srcLen uint32) int32

//go:wasmimport warden_v1 error_set
func error_set(code int32, msgPtr unsafe.Pointer, msgLen uint32) int32

//go:wasmimport warden_v1 ctx_get
func ctx_get(keyPtr unsafe.Pointer, keyLen uint32, dstPtr unsafe.Pointer, dstCap uint32) int64

//go:wasmimport warden_v1 log
func log(level int32, msgPtr unsafe.Pointer, msgLen uint32) int32

//go:wasmimport warden_v1 log_level
func log_level() int32

//go:wasmimport warden_v1 db_engine
func db_engine() int32

//go:wasmimport warden_v1 db_exec
func db_exec(sqlPtr unsafe.Pointer, sqlLen uint32, argsPtr unsafe.Pointer, argsLen uint32) int64

//go:wasmimport warden_v1 db_query
func db_query(sqlPtr unsafe.Pointer, sqlLen uint32, argsPtr unsafe.Pointer, argsLen uint32) int64

//go:wasmimport warden_v1 db_begin
func db_begin(mode int32) int32

//go:wasmimport warden_v1 db_commit
func db_commit() int32

//go:wasmimport warden_v1 db_rollback
func db_rollback() int32

//go:wasmimport warden_v1 result_read
func result_read(dstPtr unsafe.Pointer, dstCap uint32) int64

//go:wasmimport warden_v1 last_error
func last_error(dstPtr unsafe.Pointer, dstCap uint32) int64

//go:wasmimport warden_v1 panic
func panic(msgPtr unsafe.Pointer, msgLen uint32)

//go:wasmimport warden_v1 time_now
func time_now() int64

//go:wasmimport warden_v1 random_fill
func random_fill(dstPtr unsafe.Pointer, dstLen uint32) int32

//go:wasmimport warden_v1 http_register
func http_register(patternPtr unsafe.Pointer, patternLen uint32, methodsPtr unsafe.Pointer, methodsLen uint32, handlerID int32, flags int32) int32

//go:wasmimport warden_v1 output_set_status
func output_set_status(status int32) int32

//go:wasmimport warden_v1 output_add_header
func output_add_header(namePtr unsafe.Pointer, nameLen uint32, valuePtr unsafe.Pointer, valueLen uint32) int32

//go:wasmimport warden_v1 http_request
func http_request(reqPtr unsafe.Pointer, reqLen uint32) int64

// trap executes the wasm instruction unreachable (trap_wasm.s).
func trap()
