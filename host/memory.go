package host

import (
	"github.com/tetratelabs/wazero/api"
)

// guestRead returns a view of guest memory [ptr, ptr+n), or false when the
// range is outside memory. The view is only valid until the guest runs again;
// callers copy what they keep.
func guestRead(m api.Memory, ptr, n uint32) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	if m == nil {
		return nil, false
	}
	return m.Read(ptr, n)
}

// guestWrite copies src into guest memory at ptr, or returns false when the
// range is outside memory.
func guestWrite(m api.Memory, ptr uint32, src []byte) bool {
	if len(src) == 0 {
		return true
	}
	if m == nil {
		return false
	}
	return m.Write(ptr, src)
}

// guestRange reports whether [ptr, ptr+n) lies inside guest memory.
func guestRange(m api.Memory, ptr, n uint32) bool {
	if n == 0 {
		return true
	}
	if m == nil {
		return false
	}
	end := uint64(ptr) + uint64(n)
	return end <= uint64(m.Size())
}

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
