package abi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Tag is the first byte of an encoded Value.
type Tag byte

// Value tags. New tags are only appended.
const (
	TagNull    Tag = 0
	TagInt64   Tag = 1
	TagFloat64 Tag = 2
	TagText    Tag = 3
	TagBlob    Tag = 4
)

// Value is one SQL value on the wire. Go type by tag: nil (TagNull), int64,
// float64, string (TagText) and []byte (TagBlob).
type Value = any

var (
	errShort   = errors.New("truncated")
	errTag     = errors.New("unknown value tag")
	errTrail   = errors.New("trailing bytes")
	errGoType  = errors.New("unsupported Go type")
	errTooMany = errors.New("count exceeds remaining bytes")
	errParams  = fmt.Errorf("more values than a statement's %d parameters", MaxSQLParams)
)

// AppendValue appends the encoding of v to dst.
//
// # Errors
//
// It fails when v is not one of the five Value types.
func AppendValue(dst []byte, v Value) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, byte(TagNull)), nil
	case int64:
		return binary.LittleEndian.AppendUint64(append(dst, byte(TagInt64)), uint64(x)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, byte(TagFloat64)), math.Float64bits(x)), nil
	case string:
		dst = binary.LittleEndian.AppendUint32(append(dst, byte(TagText)), uint32(len(x)))
		return append(dst, x...), nil
	case []byte:
		dst = binary.LittleEndian.AppendUint32(append(dst, byte(TagBlob)), uint32(len(x)))
		return append(dst, x...), nil
	}
	return dst, fmt.Errorf("encode %T: %w", v, errGoType)
}

// EncodeValues encodes a value list: count:u32, then each value.
//
// # Errors
//
// It fails when a value is not one of the five Value types.
func EncodeValues(vals []Value) ([]byte, error) {
	out := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+9*len(vals)), uint32(len(vals)))
	for i, v := range vals {
		var err error
		if out, err = AppendValue(out, v); err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
	}
	return out, nil
}

// DecodeValues decodes a value list made by EncodeValues, the arguments of
// one statement. An empty input is an empty list. Decoded text and blobs
// are copies.
//
// # Errors
//
// It fails on truncated input, an unknown tag or trailing bytes, and, from
// the count alone, before decoding any value, on more than MaxSQLParams
// values: a statement cannot use more, and each decoded value costs the
// host tens of bytes however small its encoding.
func DecodeValues(b []byte) ([]Value, error) {
	if len(b) == 0 {
		return nil, nil
	}
	n, rest, err := readU32(b)
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	if n > MaxSQLParams {
		return nil, fmt.Errorf("count %d: %w", n, errParams)
	}
	if uint64(n) > uint64(len(rest)) { // each value takes at least one byte
		return nil, fmt.Errorf("count %d: %w", n, errTooMany)
	}
	vals := make([]Value, 0, n)
	for i := uint32(0); i < n; i++ {
		var v Value
		if v, rest, err = readValue(rest); err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		vals = append(vals, v)
	}
	if len(rest) != 0 {
		return nil, errTrail
	}
	return vals, nil
}

// EncodeRows encodes a query result: ncols:u32, each column name as
// len:u32 + UTF-8, nrows:u32, then nrows*ncols values, row by row.
//
// # Errors
//
// It fails when a row has the wrong width or a value has an unsupported type.
func EncodeRows(cols []string, rows [][]Value) ([]byte, error) {
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(cols)))
	for _, c := range cols {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(c)))
		out = append(out, c...)
	}
	out = binary.LittleEndian.AppendUint32(out, uint32(len(rows)))
	for i, r := range rows {
		if len(r) != len(cols) {
			return nil, fmt.Errorf("row %d has %d values for %d columns", i, len(r), len(cols))
		}
		for _, v := range r {
			var err error
			if out, err = AppendValue(out, v); err != nil {
				return nil, fmt.Errorf("row %d: %w", i, err)
			}
		}
	}
	return out, nil
}

// DecodeRows decodes a query result made by EncodeRows.
//
// # Errors
//
// It fails on truncated input, an unknown tag or trailing bytes.
func DecodeRows(b []byte) ([]string, [][]Value, error) {
	ncols, rest, err := readU32(b)
	if err != nil {
		return nil, nil, fmt.Errorf("column count: %w", err)
	}
	if uint64(ncols)*4 > uint64(len(rest)) {
		return nil, nil, fmt.Errorf("column count %d: %w", ncols, errTooMany)
	}
	cols := make([]string, ncols)
	for i := range cols {
		var name []byte
		if name, rest, err = readBytes(rest); err != nil {
			return nil, nil, fmt.Errorf("column %d: %w", i, err)
		}
		cols[i] = string(name)
	}
	nrows, rest, err := readU32(rest)
	if err != nil {
		return nil, nil, fmt.Errorf("row count: %w", err)
	}
	if ncols == 0 && nrows != 0 {
		return nil, nil, fmt.Errorf("%d rows without columns", nrows)
	}
	if uint64(nrows)*uint64(ncols) > uint64(len(rest)) {
		return nil, nil, fmt.Errorf("row count %d: %w", nrows, errTooMany)
	}
	rows := make([][]Value, nrows)
	for i := range rows {
		rows[i] = make([]Value, ncols)
		for j := range rows[i] {
			if rows[i][j], rest, err = readValue(rest); err != nil {
				return nil, nil, fmt.Errorf("row %d column %d: %w", i, j, err)
			}
		}
	}
	if len(rest) != 0 {
		return nil, nil, errTrail
	}
	return cols, rows, nil
}

// EncodeMap encodes string pairs: count:u32, then key and value each as
// len:u32 + UTF-8. A key with several values appears once per value.
func EncodeMap(m map[string][]string, keys []string) []byte {
	n := 0
	for _, k := range keys {
		n += len(m[k])
	}
	out := binary.LittleEndian.AppendUint32(nil, uint32(n))
	for _, k := range keys {
		for _, v := range m[k] {
			out = binary.LittleEndian.AppendUint32(out, uint32(len(k)))
			out = append(out, k...)
			out = binary.LittleEndian.AppendUint32(out, uint32(len(v)))
			out = append(out, v...)
		}
	}
	return out
}

// DecodeMap decodes pairs made by EncodeMap, in order.
//
// # Errors
//
// It fails on truncated input or trailing bytes.
func DecodeMap(b []byte) ([][2]string, error) {
	n, rest, err := readU32(b)
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	if uint64(n)*8 > uint64(len(rest)) {
		return nil, fmt.Errorf("count %d: %w", n, errTooMany)
	}
	pairs := make([][2]string, n)
	for i := range pairs {
		var k, v []byte
		if k, rest, err = readBytes(rest); err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		if v, rest, err = readBytes(rest); err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		pairs[i] = [2]string{string(k), string(v)}
	}
	if len(rest) != 0 {
		return nil, errTrail
	}
	return pairs, nil
}

func readU32(b []byte) (uint32, []byte, error) {
	if len(b) < 4 {
		return 0, b, errShort
	}
	return binary.LittleEndian.Uint32(b), b[4:], nil
}

func readBytes(b []byte) ([]byte, []byte, error) {
	n, rest, err := readU32(b)
	if err != nil {
		return nil, b, err
	}
	if uint64(n) > uint64(len(rest)) {
		return nil, b, errShort
	}
	return rest[:n:n], rest[n:], nil
}

func readValue(b []byte) (Value, []byte, error) {
	if len(b) == 0 {
		return nil, b, errShort
	}
	tag, rest := Tag(b[0]), b[1:]
	switch tag {
	case TagNull:
		return nil, rest, nil
	case TagInt64, TagFloat64:
		if len(rest) < 8 {
			return nil, b, errShort
		}
		u := binary.LittleEndian.Uint64(rest)
		if tag == TagInt64 {
			return int64(u), rest[8:], nil
		}
		return math.Float64frombits(u), rest[8:], nil
	case TagText, TagBlob:
		p, rest, err := readBytes(rest)
		if err != nil {
			return nil, b, err
		}
		if tag == TagText {
			return string(p), rest, nil
		}
		return append([]byte{}, p...), rest, nil
	}
	return nil, b, fmt.Errorf("tag %d: %w", tag, errTag)
}
