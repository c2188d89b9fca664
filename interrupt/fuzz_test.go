package interrupt

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
)

// FuzzInstrument checks that the rewriter never panics and that whatever
// it returns, from any input, is a module wazero compiles. The seeds are
// the committed modules and the hand-made attacks.
func FuzzInstrument(f *testing.F) {
	for _, wasm := range committedModules(f) {
		if len(wasm) < 1<<20 { // the Go plugins would make each step slow
			f.Add(wasm)
		}
	}
	f.Add(loopModule([]byte{0}, fn(0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b)))
	f.Add(loopModule([]byte{0}, fn(0x41, 0x00, 0x24, 0x01, 0x0b)))
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, err := Instrument(wasm)
		if err != nil {
			return
		}
		orig, origErr := rt.CompileModule(ctx, wasm)
		if origErr != nil {
			return // a module wazero refuses may be rewritten into another it refuses
		}
		_ = orig.Close(ctx)
		c, err := rt.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("the original compiles but its rewrite does not: %v", err)
		}
		_ = c.Close(ctx)
	})
}
