package wire

import (
	"errors"
	"reflect"
	"testing"
)

func TestDecodeMap(t *testing.T) {
	pairs := []Pair{{"Accept", "a"}, {"Accept", "b"}, {"X-Empty", ""}}
	got, err := DecodeMap(EncodeMap(pairs))
	if err != nil || !reflect.DeepEqual(got, pairs) {
		t.Fatalf("DecodeMap(EncodeMap(%v)) = %v, %v", pairs, got, err)
	}
	if got, err := DecodeMap([]byte{0, 0, 0, 0}); err != nil || len(got) != 0 {
		t.Errorf("empty map = %v, %v", got, err)
	}
}

func TestDecodeMap_Errors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"huge count", []byte{255, 255, 255, 255, 0}, ErrCount},
		{"short key", []byte{1, 0, 0, 0, 9, 0, 0, 0, 'k', 0, 0, 0, 0}, ErrTruncated},
		{"trailing", append(EncodeMap([]Pair{{"k", "v"}}), 0), ErrTrailing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeMap(tt.in); !errors.Is(err, tt.want) {
				t.Errorf("DecodeMap(%v) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}
