package db

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/warden-rpc/warden/sdk/go/internal/wire"
)

// appendValue appends the encoding of v (ABI.md 4.1).
func appendValue(b []byte, v Value) []byte {
	b = append(b, byte(v.kind))
	switch v.kind {
	case KindInt:
		b = binary.LittleEndian.AppendUint64(b, uint64(v.i))
	case KindFloat:
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.f))
	case KindText:
		b = wire.AppendString(b, v.s)
	case KindBlob:
		b = wire.AppendBytes(b, v.b)
	}
	return b
}

// encodeValues encodes a value list: count:u32, then each value. No values
// encode to no bytes, which the host reads as "no parameters".
func encodeValues(vals []Value) []byte {
	if len(vals) == 0 {
		return nil
	}
	b := wire.AppendU32(make([]byte, 0, 4+9*len(vals)), uint32(len(vals)))
	for _, v := range vals {
		b = appendValue(b, v)
	}
	return b
}

var errTag = errors.New("unknown value tag")

func readValue(r *wire.Reader) (Value, error) {
	tag, err := r.U8()
	if err != nil {
		return Value{}, err
	}
	switch Kind(tag) {
	case KindNull:
		return Null(), nil
	case KindInt, KindFloat:
		n, err := r.U64()
		if err != nil {
			return Value{}, err
		}
		if Kind(tag) == KindInt {
			return Int(int64(n)), nil
		}
		return Float(math.Float64frombits(n)), nil
	case KindText, KindBlob:
		p, err := r.Bytes()
		if err != nil {
			return Value{}, err
		}
		if Kind(tag) == KindText {
			return Text(string(p)), nil
		}
		return Blob(append([]byte{}, p...)), nil
	}
	return Value{}, errTag
}

// decodeResult decodes a query result: ncols:u32, the column names,
// nrows:u32, then the values row by row (ABI.md 4.2).
func decodeResult(b []byte) (*Result, error) {
	r := wire.NewReader(b)
	ncols, err := r.Count(4)
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: make([]string, ncols)}
	for i := range res.Columns {
		name, err := r.Bytes()
		if err != nil {
			return nil, err
		}
		res.Columns[i] = string(name)
	}
	nrows, err := r.Count(max(ncols, 1))
	if err != nil {
		return nil, err
	}
	res.Rows = make([][]Value, nrows)
	for i := range res.Rows {
		row := make([]Value, ncols)
		for j := range row {
			if row[j], err = readValue(r); err != nil {
				return nil, err
			}
		}
		res.Rows[i] = row
	}
	return res, r.Finish()
}
