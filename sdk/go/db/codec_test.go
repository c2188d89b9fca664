package db

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/warden-rpc/warden/sdk/go/internal/wire"
)

// decodeValues decodes a value list; no bytes is an empty list. The host
// never sends one, so only tests need it.
func decodeValues(b []byte) ([]Value, error) {
	if len(b) == 0 {
		return nil, nil
	}
	r := wire.NewReader(b)
	n, err := r.Count(1)
	if err != nil {
		return nil, err
	}
	vals := make([]Value, n)
	for i := range vals {
		if vals[i], err = readValue(r); err != nil {
			return nil, err
		}
	}
	return vals, r.Finish()
}

func TestEncodeValues_Golden(t *testing.T) {
	got := encodeValues([]Value{Null(), Int(-2), Text("é"), Blob(nil)})
	want := []byte{4, 0, 0, 0, 0, 1, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		3, 2, 0, 0, 0, 0xc3, 0xa9, 4, 0, 0, 0, 0}
	if !bytes.Equal(got, want) {
		t.Errorf("encodeValues = %v, want %v", got, want)
	}
	if got := encodeValues(nil); len(got) != 0 {
		t.Errorf("encodeValues(nil) = %v, want no bytes", got)
	}
}

func TestEncodeValues_RoundTrip(t *testing.T) {
	vals := []Value{Null(), Int(math.MinInt64), Int(math.MaxInt64), Float(-0.5),
		Float(math.Inf(1)), Text(""), Text("héllo"), Blob([]byte{}), Blob([]byte{0, 255, 1})}
	got, err := decodeValues(encodeValues(vals))
	if err != nil || !reflect.DeepEqual(got, vals) {
		t.Errorf("round trip = %v, %v; want %v", got, err, vals)
	}
}

func TestDecodeValues_Errors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"short count", []byte{1, 0}, wire.ErrTruncated},
		{"huge count", []byte{255, 255, 255, 255, 0}, wire.ErrCount},
		{"short int", []byte{1, 0, 0, 0, 1, 0, 0}, wire.ErrTruncated},
		{"short text", []byte{1, 0, 0, 0, 3, 5, 0, 0, 0, 'a'}, wire.ErrTruncated},
		{"bad tag", []byte{1, 0, 0, 0, 9}, errTag},
		{"trailing", []byte{1, 0, 0, 0, 0, 0}, wire.ErrTrailing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeValues(tt.in); !errors.Is(err, tt.want) {
				t.Errorf("decodeValues(%v) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

// resultBytes encodes a query result.
func resultBytes(cols []string, nrows uint32, vals ...Value) []byte {
	b := wire.AppendU32(nil, uint32(len(cols)))
	for _, c := range cols {
		b = wire.AppendString(b, c)
	}
	b = wire.AppendU32(b, nrows)
	for _, v := range vals {
		b = appendValue(b, v)
	}
	return b
}

func TestDecodeResult(t *testing.T) {
	vals := []Value{Text("a"), Int(1), Text("b"), Null()}
	res, err := decodeResult(resultBytes([]string{"k", "v"}, 2, vals...))
	if err != nil {
		t.Fatal(err)
	}
	want := &Result{Columns: []string{"k", "v"}, Rows: [][]Value{vals[:2], vals[2:]}}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("decodeResult = %+v, want %+v", res, want)
	}
	if res.Column("v") != 1 || res.Column("x") != -1 {
		t.Errorf("Column: v = %d, x = %d", res.Column("v"), res.Column("x"))
	}
	for name, b := range map[string][]byte{
		"missing row": resultBytes([]string{"k"}, 2, vals[0]),
		"extra value": resultBytes([]string{"k"}, 1, vals[:2]...),
		"empty":       nil,
	} {
		if _, err := decodeResult(b); err == nil {
			t.Errorf("decodeResult(%s) succeeded", name)
		}
	}
}

func TestValueOf(t *testing.T) {
	tests := []struct {
		in   any
		want Value
	}{
		{nil, Null()},
		{true, Int(1)},
		{false, Int(0)},
		{7, Int(7)},
		{int8(-3), Int(-3)},
		{uint32(9), Int(9)},
		{uint64(math.MaxInt64), Int(math.MaxInt64)},
		{float32(0.5), Float(0.5)},
		{2.5, Float(2.5)},
		{"x", Text("x")},
		{[]byte("y"), Blob([]byte("y"))},
		{Text("z"), Text("z")},
	}
	for _, tt := range tests {
		got, err := valueOf(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("valueOf(%#v) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []any{uint64(math.MaxUint64), struct{}{}, []int{1}} {
		if _, err := valueOf(bad); err == nil {
			t.Errorf("valueOf(%#v) succeeded", bad)
		}
	}
}

func TestValue_Getters(t *testing.T) {
	if n, ok := Int(3).Int(); !ok || n != 3 {
		t.Errorf("Int(3).Int() = %d, %v", n, ok)
	}
	if x, ok := Int(3).Float(); !ok || x != 3 {
		t.Errorf("Int(3).Float() = %v, %v", x, ok)
	}
	if _, ok := Text("3").Int(); ok {
		t.Error("Text.Int() ok")
	}
	if b, ok := Text("ab").Blob(); !ok || string(b) != "ab" {
		t.Errorf("Text.Blob() = %q, %v", b, ok)
	}
	if !Null().IsNull() || (Value{}).Kind() != KindNull {
		t.Error("the zero Value is not NULL")
	}
	for v, want := range map[string]string{
		Null().String(): "NULL", Int(-1).String(): "-1", Text("a").String(): `"a"`,
		Blob([]byte{1, 255}).String(): "x'01ff'", Float(0.25).String(): "0.25",
	} {
		if v != want {
			t.Errorf("String() = %s, want %s", v, want)
		}
	}
}
