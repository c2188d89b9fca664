package host

import (
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/warden-rpc/warden/abi"
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

// readMessage copies up to limit bytes of a guest string, as valid UTF-8.
func readMessage(m api.Memory, ptr, n uint32, limit int) (string, abi.Status) {
	b, ok := guestRead(m, ptr, n)
	if !ok {
		return "", abi.StatusInvalidMemory
	}
	return message(b, limit), abi.StatusOK
}

// message copies up to limit bytes of b, a view of guest memory, as valid
// UTF-8, marked when it was cut.
func message(b []byte, limit int) string {
	cut := len(b) > limit
	if cut {
		b = b[:limit]
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if cut {
		s += "…[truncated]"
	}
	return s
}

// writeBuffered answers a buffer-convention call: it writes v to
// (dst_ptr = stack[2], dst_cap = stack[3]) when it fits and returns len(v).
func writeBuffered(st *callState, m api.Memory, stack []uint64, v string) {
	writeBufferedAt(st, m, stack, 2, v)
}

func writeBufferedAt(st *callState, m api.Memory, stack []uint64, at int, v string) {
	dst, dstCap := u32(stack, at), u32(stack, at+1)
	if !guestRange(m, dst, dstCap) {
		lenOrStatus(stack, 0, st.fail(abi.StatusInvalidMemory, "destination out of bounds"))
		return
	}
	if uint64(len(v)) <= uint64(dstCap) && len(v) > 0 {
		m.WriteString(dst, v)
	}
	retLen(stack, int64(len(v)))
}
