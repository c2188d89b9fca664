package host

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// costlyModule returns a plugin (the ABI's exports, no RPC) with funcs more
// functions, each of locals i64 locals and a body of blocks
// "block; i32.const 0; br_if 0; end" in a row, then the sum of every
// local: a few bytes per block, each one a point where wazero's compiler
// merges every local.
func costlyModule(funcs, locals, blocks int) []byte {
	uv := func(n int) []byte { return binary.AppendUvarint(nil, uint64(n)) }
	var w bytes.Buffer
	w.WriteString("\x00asm\x01\x00\x00\x00")
	section := func(id byte, count int, entries []byte) {
		b := append(uv(count), entries...)
		w.WriteByte(id)
		w.Write(uv(len(b)))
		w.Write(b)
	}
	name := func(s string) []byte { return append(uv(len(s)), s...) }
	// Types: () -> (), () -> i32, (i32, i32) -> i32, () -> i64.
	section(1, 4, []byte("\x60\x00\x00"+"\x60\x00\x01\x7f"+"\x60\x02\x7f\x7f\x01\x7f"+"\x60\x00\x01\x7e"))
	types := []byte{0, 1, 2}
	for range funcs {
		types = append(types, 3)
	}
	section(3, len(types), types)
	section(5, 1, []byte{0x00, 0x01})
	var exports []byte
	for i, e := range []string{"warden_abi_v1", "warden_init", "warden_handle"} {
		exports = append(append(exports, name(e)...), 0x00, byte(i))
	}
	section(7, 4, append(append(name("memory"), 0x02, 0x00), exports...))
	body := append([]byte{1}, uv(locals)...)
	body = append(body, 0x7e)
	for range blocks {
		body = append(body, 0x02, 0x40, 0x41, 0x00, 0x0d, 0x00, 0x0b)
	}
	body = append(body, 0x42, 0x00)
	for i := range locals {
		body = append(append(append(body, 0x20), uv(i)...), 0x7c)
	}
	body = append(body, 0x0b)
	code := []byte{2, 0x00, 0x0b, 4, 0x00, 0x41, 0x00, 0x0b, 4, 0x00, 0x41, 0x00, 0x0b}
	for range funcs {
		code = append(append(code, uv(len(body))...), body...)
	}
	section(10, 3+funcs, code)
	return w.Bytes()
}

// TestHost_compileCostRefused: a plugin whose functions would cost
// wazero's compiler minutes and gigabytes, from a few kilobytes, is
// refused at load before it is compiled: one function of 2,000 locals and
// 2,000 blocks (22 KB; it took 15 s and 880 MiB to compile), and 40
// functions each under the one-function bound that are over it together.
// A function of the same shape under the bound loads.
func TestHost_compileCostRefused(t *testing.T) {
	tests := []struct {
		name                  string
		funcs, locals, blocks int
		want                  string // "" when it must load
	}{
		{"OneFunction", 1, 2000, 2000, "would cost the compiler"},
		{"ManyFunctions", 40, 500, 500, "would cost the compiler more than the limit"},
		{"UnderTheBounds", 2, 50, 50, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "bomb.wasm"), costlyModule(tt.funcs, tt.locals, tt.blocks), 0o644); err != nil {
				t.Fatal(err)
			}
			h, err := New(context.Background(), Config{PluginDir: dir, Logger: zerolog.New(zerolog.NewTestWriter(t)), StrictLoad: true})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("a plugin under the bounds: %v", err)
				}
				_ = h.Close(context.Background())
				return
			}
			if err == nil {
				_ = h.Close(context.Background())
				t.Fatalf("%d functions of %d locals and %d blocks loaded, want refused", tt.funcs, tt.locals, tt.blocks)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("refused with %v, want it to say %q", err, tt.want)
			}
		})
	}
}
