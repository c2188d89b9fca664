package host

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
)

// memoryModule is a module that defines and exports ("memory") one memory
// of lo pages, at most hi pages when hasMax.
func memoryModule(lo, hi byte, hasMax bool) []byte {
	limits := []byte{0, lo}
	if hasMax {
		limits = []byte{1, lo, hi}
	}
	mem := append([]byte{1}, limits...)
	export := append([]byte{1, 6}, append([]byte("memory"), 2, 0)...)
	out := []byte("\x00asm\x01\x00\x00\x00")
	out = append(append(out, sectionMemory, byte(len(mem))), mem...)
	return append(append(out, 7, byte(len(export))), export...)
}

func TestCapMemory(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	tests := []struct {
		name    string
		wasm    []byte
		wantMax uint32
	}{
		{"OKNoMax", memoryModule(1, 0, false), 16},
		{"OKLargerMax", memoryModule(1, 100, true), 16},
		{"OKSmallerMax", memoryModule(1, 8, true), 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := capMemory(tt.wasm, 16)
			if err != nil {
				t.Fatal(err)
			}
			cm, err := r.CompileModule(ctx, out)
			if err != nil {
				t.Fatal(err)
			}
			if max, ok := cm.ExportedMemories()["memory"].Max(); !ok || max != tt.wantMax {
				t.Fatalf("max %d (declared %v), want %d", max, ok, tt.wantMax)
			}
		})
	}
	t.Run("ErrMinOver", func(t *testing.T) {
		if _, err := capMemory(memoryModule(17, 0, false), 16); err == nil {
			t.Fatal("capped a memory that starts over the cap")
		}
	})
}
