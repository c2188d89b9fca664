package db

import (
	"encoding/hex"
	"errors"
	"math"
	"strconv"
)

// Kind is the type of a Value: the tag of the value encoding (ABI.md 4.1).
type Kind uint8

// Kinds of values.
const (
	KindNull  Kind = 0
	KindInt   Kind = 1
	KindFloat Kind = 2
	KindText  Kind = 3
	KindBlob  Kind = 4
)

// String returns "null", "int", "float", "text" or "blob".
func (k Kind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindText:
		return "text"
	case KindBlob:
		return "blob"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one SQL parameter or result value: NULL, a 64-bit integer, a
// 64-bit float, UTF-8 text or a blob. The zero Value is NULL. Build one
// with Null, Int, Float, Text, Blob or Bool, or pass plain Go values to
// Exec and Query.
type Value struct {
	kind Kind
	i    int64
	f    float64
	s    string
	b    []byte
}

// Null returns NULL.
func Null() Value { return Value{} }

// Int returns an INT64 value.
func Int(n int64) Value { return Value{kind: KindInt, i: n} }

// Float returns a FLOAT64 value. SQLite stores NaN as NULL.
func Float(x float64) Value { return Value{kind: KindFloat, f: x} }

// Text returns a TEXT value; s should be UTF-8.
func Text(s string) Value { return Value{kind: KindText, s: s} }

// Blob returns a BLOB value; nil is an empty blob, not NULL.
func Blob(b []byte) Value { return Value{kind: KindBlob, b: b} }

// Bool returns 1 for true and 0 for false, as portable SQL stores
// booleans (ABI.md section 6).
func Bool(v bool) Value {
	if v {
		return Int(1)
	}
	return Int(0)
}

// Kind returns the value's type.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.kind == KindNull }

// Int returns an INT64 value.
func (v Value) Int() (int64, bool) { return v.i, v.kind == KindInt }

// Float returns a FLOAT64 value, or an INT64 value converted.
func (v Value) Float() (float64, bool) {
	switch v.kind {
	case KindFloat:
		return v.f, true
	case KindInt:
		return float64(v.i), true
	}
	return 0, false
}

// Text returns a TEXT value.
func (v Value) Text() (string, bool) { return v.s, v.kind == KindText }

// Blob returns a BLOB value, or the bytes of a TEXT value.
func (v Value) Blob() ([]byte, bool) {
	switch v.kind {
	case KindBlob:
		return v.b, true
	case KindText:
		return []byte(v.s), true
	}
	return nil, false
}

// Any returns v as nil, int64, float64, string or []byte.
func (v Value) Any() any {
	switch v.kind {
	case KindInt:
		return v.i
	case KindFloat:
		return v.f
	case KindText:
		return v.s
	case KindBlob:
		return v.b
	}
	return nil
}

// String formats v for humans: NULL, a number, quoted text or hex bytes.
func (v Value) String() string {
	switch v.kind {
	case KindInt:
		return strconv.FormatInt(v.i, 10)
	case KindFloat:
		return strconv.FormatFloat(v.f, 'g', -1, 64)
	case KindText:
		return strconv.Quote(v.s)
	case KindBlob:
		return "x'" + hex.EncodeToString(v.b) + "'"
	}
	return "NULL"
}

// Parameter conversion errors.
var (
	errUnsupported = errors.New("unsupported type: use a db.Value, nil, bool, an integer, a float, string or []byte")
	errOverflow    = errors.New("unsigned integer overflows int64")
)

// valueOf converts a parameter of Exec or Query to a Value: a Value, nil,
// a bool, any integer type (a uint64 must fit in int64), float32,
// float64, string or []byte.
func valueOf(a any) (Value, error) {
	switch x := a.(type) {
	case Value:
		return x, nil
	case nil:
		return Null(), nil
	case bool:
		return Bool(x), nil
	case int:
		return Int(int64(x)), nil
	case int8:
		return Int(int64(x)), nil
	case int16:
		return Int(int64(x)), nil
	case int32:
		return Int(int64(x)), nil
	case int64:
		return Int(x), nil
	case uint:
		return uintValue(uint64(x))
	case uint8:
		return Int(int64(x)), nil
	case uint16:
		return Int(int64(x)), nil
	case uint32:
		return Int(int64(x)), nil
	case uint64:
		return uintValue(x)
	case float32:
		return Float(float64(x)), nil
	case float64:
		return Float(x), nil
	case string:
		return Text(x), nil
	case []byte:
		return Blob(x), nil
	}
	return Value{}, errUnsupported
}

func uintValue(n uint64) (Value, error) {
	if n > math.MaxInt64 {
		return Value{}, errOverflow
	}
	return Int(int64(n)), nil
}
