package host

import "github.com/warden-rpc/warden/abi"

// u32 reads stack slot i as an unsigned 32-bit value, the ABI's pointers and
// lengths.
func u32(stack []uint64, i int) uint32 { return uint32(stack[i]) }

// i32 reads stack slot i as a signed 32-bit value.
func i32(stack []uint64, i int) int32 { return int32(uint32(stack[i])) }

// retStatus stores an i32 status result.
func retStatus(stack []uint64, s int32) { stack[0] = uint64(uint32(s)) }

// retLen stores an i64 result n: a length, or a failure status (negative)
// when the call failed.
func retLen(stack []uint64, n int64) { stack[0] = uint64(n) }

// status stores s as an i32 result.
func status(stack []uint64, s abi.Status) { retStatus(stack, int32(s)) }

// lenOrStatus stores n, or -(-s) = s when s is a failure, as an i64 result.
func lenOrStatus(stack []uint64, n int, s abi.Status) {
	if s != abi.StatusOK {
		retLen(stack, int64(s))
		return
	}
	retLen(stack, int64(n))
}
