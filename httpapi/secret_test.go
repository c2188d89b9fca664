package httpapi

import (
	"strings"
	"testing"
)

func TestSecret_matches(t *testing.T) {
	const key = "a-very-long-http-key-0123456789abcdef"
	s := newSecret(key)
	tests := []struct {
		name  string
		given string
		want  bool
	}{
		{"the key", key, true},
		{"a copy of the key", strings.Clone(key), true},
		{"first byte differs", "b" + key[1:], false},
		{"last byte differs", key[:len(key)-1] + "0", false},
		{"a prefix", key[:len(key)-1], false},
		{"longer", key + "x", false},
		{"empty", "", false},
		{"another key", "defaulthttpkey", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.matches(tc.given); got != tc.want {
				t.Errorf("matches(%q) = %v, want %v", tc.given, got, tc.want)
			}
		})
	}
}

// TestSecret_seeds checks that two secrets of the same key hash under
// seeds of their own: the hash an attacker would aim for is not a
// property of the key alone.
func TestSecret_seeds(t *testing.T) {
	a, b := newSecret("k"), newSecret("k")
	if a.sum == b.sum {
		t.Errorf("two secrets of one key have the same hash %#x", a.sum)
	}
	if !a.matches("k") || !b.matches("k") {
		t.Error("a secret does not match its key")
	}
}

func TestSecret_noAllocation(t *testing.T) {
	s := newSecret("defaulthttpkey")
	given := strings.Clone("defaulthttpkey")
	if n := testing.AllocsPerRun(100, func() { s.matches(given) }); n != 0 {
		t.Errorf("matches allocates %v times", n)
	}
}
