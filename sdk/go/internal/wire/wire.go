// Package wire reads and writes the binary encodings of ABI.md section 4:
// little-endian integers, length-prefixed bytes, and maps (4.3). Package db
// builds value lists (4.1) and query results (4.2) on top of it.
package wire

import (
	"encoding/binary"
	"errors"
)

// Decoding errors.
var (
	ErrTruncated = errors.New("truncated")
	ErrCount     = errors.New("count exceeds remaining bytes")
	ErrTrailing  = errors.New("trailing bytes")
)

// Reader is a cursor over an encoded buffer.
type Reader struct {
	b []byte
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Take returns the next n bytes.
func (r *Reader) Take(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)) {
		return nil, ErrTruncated
	}
	head := r.b[:n:n]
	r.b = r.b[n:]
	return head, nil
}

// U8 reads one byte.
func (r *Reader) U8() (byte, error) {
	b, err := r.Take(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// U32 reads a little-endian uint32.
func (r *Reader) U32() (uint32, error) {
	b, err := r.Take(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

// U64 reads a little-endian uint64.
func (r *Reader) U64() (uint64, error) {
	b, err := r.Take(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// Count reads a count and refuses one that cannot fit in what is left when
// each item takes at least min bytes, so a bad count cannot allocate much.
func (r *Reader) Count(min int) (int, error) {
	n, err := r.U32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(min) > uint64(len(r.b)) {
		return 0, ErrCount
	}
	return int(n), nil
}

// Bytes reads len:u32 then that many bytes.
func (r *Reader) Bytes() ([]byte, error) {
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	return r.Take(uint64(n))
}

// Finish reports trailing bytes.
func (r *Reader) Finish() error {
	if len(r.b) != 0 {
		return ErrTrailing
	}
	return nil
}

// AppendU32 appends a little-endian uint32.
func AppendU32(b []byte, n uint32) []byte { return binary.LittleEndian.AppendUint32(b, n) }

// AppendBytes appends len:u32 then v.
func AppendBytes(b, v []byte) []byte { return append(AppendU32(b, uint32(len(v))), v...) }

// AppendString appends len:u32 then s.
func AppendString(b []byte, s string) []byte { return append(AppendU32(b, uint32(len(s))), s...) }

// Pair is one key and value of a map; a repeated key has one Pair per value.
type Pair struct {
	Key, Value string
}

// DecodeMap decodes a map into its pairs, in order.
func DecodeMap(b []byte) ([]Pair, error) {
	r := NewReader(b)
	pairs, err := r.Map()
	if err != nil {
		return nil, err
	}
	return pairs, r.Finish()
}

// Map reads a map's pairs, in order.
func (r *Reader) Map() ([]Pair, error) {
	n, err := r.Count(8)
	if err != nil {
		return nil, err
	}
	pairs := make([]Pair, 0, n)
	for range n {
		k, err := r.Bytes()
		if err != nil {
			return nil, err
		}
		v, err := r.Bytes()
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, Pair{string(k), string(v)})
	}
	return pairs, nil
}

// EncodeMap encodes pairs as a map, in order.
func EncodeMap(pairs []Pair) []byte { return AppendMap(nil, pairs) }

// AppendMap appends pairs as a map, in order.
func AppendMap(b []byte, pairs []Pair) []byte {
	b = AppendU32(b, uint32(len(pairs)))
	for _, p := range pairs {
		b = AppendString(AppendString(b, p.Key), p.Value)
	}
	return b
}
