package abi

import "testing"

func TestCode_Normalize(t *testing.T) {
	tests := []struct {
		name string
		in   Code
		want Code
	}{
		{"Zero", 0, CodeInternal},
		{"Negative", -3, CodeInternal},
		{"InRange", CodeNotFound, CodeNotFound},
		{"Max", CodeUnauthenticated, CodeUnauthenticated},
		{"TooLarge", 17, CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Normalize(); got != tt.want {
				t.Fatalf("Code(%d).Normalize() = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
