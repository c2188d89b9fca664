package abi

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"testing"
)

func TestValues_roundTrip(t *testing.T) {
	tests := []struct {
		name string
		vals []Value
	}{
		{"Empty", []Value{}},
		{"Null", []Value{nil}},
		{"Int64Extremes", []Value{int64(math.MinInt64), int64(math.MaxInt64), int64(0), int64(-1)}},
		{"Floats", []Value{0.0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64}},
		{"Text", []Value{"", "héllo", "日本語", "\x00"}},
		{"Blob", []Value{[]byte{}, []byte{0, 1, 2, 255}}},
		{"Mixed", []Value{nil, int64(7), 1.5, "x", []byte("y")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := EncodeValues(tt.vals)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeValues(enc)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.vals) || (len(got) > 0 && !reflect.DeepEqual(got, tt.vals)) {
				t.Fatalf("got %#v, want %#v", got, tt.vals)
			}
			for i, v := range tt.vals {
				// DeepEqual compares floats with ==, for which -0 == +0.
				if f, ok := v.(float64); ok && math.Float64bits(got[i].(float64)) != math.Float64bits(f) {
					t.Errorf("value %d: got bits %#x, want %#x", i, math.Float64bits(got[i].(float64)), math.Float64bits(f))
				}
			}
		})
	}
}

func TestValues_NaN(t *testing.T) {
	enc, err := EncodeValues([]Value{math.NaN()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeValues(enc)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := got[0].(float64); !ok || !math.IsNaN(f) {
		t.Fatalf("got %#v, want NaN", got[0])
	}
}

// nulls returns the encoding of a list of n NULLs.
func nulls(n int) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(n))
	return append(b, make([]byte, n)...)
}

func TestDecodeValues_maxSQLParams(t *testing.T) {
	vals, err := DecodeValues(nulls(MaxSQLParams))
	if err != nil || len(vals) != MaxSQLParams {
		t.Fatalf("got %d values, %v, want %d", len(vals), err, MaxSQLParams)
	}
}

func TestDecodeValues_errors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"ErrShortCount", []byte{1, 0}},
		{"ErrCountTooLarge", []byte{0xff, 0xff, 0xff, 0xff, 0}},
		{"ErrUnknownTag", []byte{1, 0, 0, 0, 9}},
		{"ErrShortInt", []byte{1, 0, 0, 0, 1, 1, 2}},
		{"ErrShortText", []byte{1, 0, 0, 0, 3, 5, 0, 0, 0, 'a'}},
		{"ErrTrailing", []byte{1, 0, 0, 0, 0, 0}},
		{"ErrMoreThanMaxSQLParams", nulls(MaxSQLParams + 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeValues(tt.in); err == nil {
				t.Fatal("DecodeValues() succeeded, want an error")
			}
		})
	}
}

func TestEncodeValues_errGoType(t *testing.T) {
	if _, err := EncodeValues([]Value{int32(1)}); err == nil {
		t.Fatal("EncodeValues(int32) succeeded, want an error")
	}
}

func TestRows_roundTrip(t *testing.T) {
	cols := []string{"id", "name", "data"}
	rows := [][]Value{{int64(1), "a", []byte{}}, {int64(2), nil, []byte{9}}}
	enc, err := EncodeRows(cols, rows)
	if err != nil {
		t.Fatal(err)
	}
	gotCols, gotRows, err := DecodeRows(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotCols, cols) || !reflect.DeepEqual(gotRows, rows) {
		t.Fatalf("got %v %v", gotCols, gotRows)
	}
	if _, err := EncodeRows(cols, [][]Value{{int64(1)}}); err == nil {
		t.Fatal("EncodeRows with a short row succeeded, want an error")
	}
}

func TestMap_roundTrip(t *testing.T) {
	m := map[string][]string{"A": {"1", "2"}, "b": {""}}
	got, err := DecodeMap(EncodeMap(m, []string{"A", "b"}))
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"A", "1"}, {"A", "2"}, {"b", ""}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// FuzzDecodeValues checks that decoding never panics and that whatever
// decodes re-encodes to the same bytes.
func FuzzDecodeValues(f *testing.F) {
	seed, _ := EncodeValues([]Value{nil, int64(-1), 2.5, "t", []byte("b")})
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, err := DecodeValues(b)
		if err != nil || len(b) == 0 {
			return
		}
		enc, err := EncodeValues(vals)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding %x gave %x", b, enc)
		}
	})
}

// FuzzDecodeRows checks that decoding rows never panics and round-trips.
func FuzzDecodeRows(f *testing.F) {
	seed, _ := EncodeRows([]string{"a"}, [][]Value{{int64(1)}, {"x"}})
	f.Add(seed)
	f.Add([]byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		cols, rows, err := DecodeRows(b)
		if err != nil {
			return
		}
		enc, err := EncodeRows(cols, rows)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding %x gave %x", b, enc)
		}
	})
}

func ExampleEncodeValues() {
	b, _ := EncodeValues([]Value{int64(1), "hi", nil})
	fmt.Printf("% x\n", b)
	// Output: 03 00 00 00 01 01 00 00 00 00 00 00 00 03 02 00 00 00 68 69 00
}

func ExampleCode_HTTPStatus() {
	fmt.Println(CodePermissionDenied.HTTPStatus(), CodeFailedPrecondition.HTTPStatus(), Code(99).HTTPStatus())
	// Output: 403 400 500
}
