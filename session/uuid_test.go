package session

import (
	"strings"
	"testing"
)

func TestNewTokenID(t *testing.T) {
	for _, tt := range []struct {
		name string
		fn   func() string
	}{{"NewTokenID", NewTokenID}, {"NewTraceID", NewTraceID}, {"PutTraceID", func() string {
		var b [36]byte
		PutTraceID(&b)
		return string(b[:])
	}}} {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(map[string]bool)
			for range 1000 {
				id := tt.fn()
				if !IsUUID(id) || id != strings.ToLower(id) {
					t.Fatalf("%s() = %q, not a lowercase canonical UUID", tt.name, id)
				}
				if id[14] != '4' {
					t.Fatalf("%s() = %q, version %c, want 4", tt.name, id, id[14])
				}
				if !strings.ContainsRune("89ab", rune(id[19])) {
					t.Fatalf("%s() = %q, variant nibble %c, want 8, 9, a or b", tt.name, id, id[19])
				}
				if seen[id] {
					t.Fatalf("%s() repeated %q", tt.name, id)
				}
				seen[id] = true
			}
		})
	}
}

func TestIsUUID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "lowercase", in: "2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b", want: true},
		{name: "uppercase", in: "2F7C9D1E-3B4A-4E5F-8A6B-7C8D9E0F1A2B", want: true},
		{name: "nil UUID", in: "00000000-0000-0000-0000-000000000000", want: true},
		{name: "empty", in: "", want: false},
		{name: "no hyphens", in: "2f7c9d1e3b4a4e5f8a6b7c8d9e0f1a2b", want: false},
		{name: "braces", in: "{2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b}", want: false},
		{name: "urn", in: "urn:uuid:2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b", want: false},
		{name: "non-hex", in: "2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2g", want: false},
		{name: "misplaced hyphen", in: "2f7c9d1e3-b4a-4e5f-8a6b-7c8d9e0f1a2b", want: false},
		{name: "too long", in: "2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2bc", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsUUID(tt.in); got != tt.want {
				t.Errorf("IsUUID(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestPutUUIDv4 checks the layout of a known UUID: each byte at its place,
// the version and variant bits set, the dashes between the groups.
func TestPutUUIDv4(t *testing.T) {
	var u [16]byte
	for i := range u {
		u[i] = byte(i)
	}
	u[15] = 0xff
	var s [36]byte
	putUUIDv4(&s, u)
	if got, want := string(s[:]), "00010203-0405-4607-8809-0a0b0c0d0eff"; got != want {
		t.Errorf("putUUIDv4 = %q, want %q", got, want)
	}
}
