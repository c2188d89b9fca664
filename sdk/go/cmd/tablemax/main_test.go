package main

import (
	"bytes"
	"testing"
)

func TestBoundTables(t *testing.T) {
	hdr := "\x00asm\x01\x00\x00\x00"
	custom := "\x00\x03\x01a\x00" // a custom section, copied as it is
	tests := []struct {
		name, in, want string
	}{
		{"NoMax", hdr + custom + "\x04\x05\x01\x70\x00\x80\x30", hdr + custom + "\x04\x07\x01\x70\x01\x80\x30\x80\x30"},
		{"HasMax", hdr + "\x04\x05\x01\x70\x01\x02\x03", hdr + "\x04\x05\x01\x70\x01\x02\x03"},
		{"NoTable", hdr + custom, hdr + custom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := boundTables([]byte(tt.in))
			if err != nil || !bytes.Equal(got, []byte(tt.want)) {
				t.Fatalf("boundTables() = %q, %v, want %q", got, err, tt.want)
			}
			again, err := boundTables(got)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("a second run changed the module: %q, %v", again, err)
			}
		})
	}
	for _, bad := range []string{"\x00asm", hdr + "\x04\x09\x01", hdr + "\x04\x03\x01\x70\x05"} {
		if _, err := boundTables([]byte(bad)); err == nil {
			t.Errorf("boundTables(%q) succeeded", bad)
		}
	}
}
