package interrupt

import (
	"errors"
	"fmt"
)

var (
	errTruncated = errors.New("unexpected end")
	errLEB       = errors.New("malformed LEB128 number")
)

// reader reads the WebAssembly binary format from b. base is the offset of
// b[0] in the module, for error messages.
type reader struct {
	b    []byte
	pos  int
	base int
	v128 bool // valType read a v128
}

// offset is the reader's position in the module.
func (r *reader) offset() int { return r.base + r.pos }

// left is how many bytes remain.
func (r *reader) left() int { return len(r.b) - r.pos }

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errTruncated
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

// bytes returns the next n bytes, without copying them.
func (r *reader) bytes(n uint64) ([]byte, error) {
	if n > uint64(r.left()) {
		return nil, errTruncated
	}
	b := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b, nil
}

// uleb reads an unsigned LEB128 number of at most bits bits, refusing a
// longer encoding or set bits past the width, as wazero does.
func (r *reader) uleb(bits uint) (uint64, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= bits {
			return 0, errLEB
		}
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if rest := bits - shift; rest < 7 && c&0x7f>>rest != 0 {
			return 0, errLEB
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

// u32 reads an unsigned 32-bit LEB128 number.
func (r *reader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

// sleb reads a signed LEB128 number of at most bits bits and returns it.
func (r *reader) sleb(bits uint) (int64, error) {
	var v int64
	var c byte
	shift := uint(0)
	for {
		if shift >= bits {
			return 0, errLEB
		}
		var err error
		if c, err = r.byte(); err != nil {
			return 0, err
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			break
		}
	}
	if shift < 64 && c&0x40 != 0 {
		v |= -1 << shift
	}
	if bits < 64 && (v < -(1<<(bits-1)) || v >= 1<<(bits-1)) {
		return 0, errLEB
	}
	return v, nil
}

// name reads a length-prefixed name, without copying it.
func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(uint64(n))
	return string(b), err
}

// count reads a vector's length and refuses one that cannot fit in what
// remains, each element taking at least min bytes (ErrLimit): wazero
// sizes slices by counts before it reads what they count.
func (r *reader) count(min int) (uint32, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(min) > uint64(r.left()) {
		return 0, fmt.Errorf("count %d: %w: %w", n, ErrLimit, errTruncated)
	}
	return n, nil
}

// appendS32 appends v as a signed LEB128 number.
func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// appendU32 appends v as an unsigned LEB128 number.
func appendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
