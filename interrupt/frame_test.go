package interrupt

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// TestInstrument_frameWeight: a function weighs what its code can make
// wazero's compiler spill, not its locals: more instructions, more locals
// where blocks merge, v128 values and wider calls weigh more; a function
// that would weigh more than abi.MaxFunctionFrameSlots is refused, as one
// frame may pass the count's bound.
func TestInstrument_frameWeight(t *testing.T) {
	loads := func(n int) []byte { return bytes.Repeat([]byte{0x41, 0x00, 0x29, 0x03, 0x00, 0x1a}, n) } // i64.load, dropped
	weight := func(t *testing.T, wasm []byte) uint64 {
		t.Helper()
		m, err := Read(wasm)
		if err == nil {
			_, err = m.Instrument()
		}
		if err != nil {
			t.Fatal(err)
		}
		return m.maxWeight
	}
	empty := weight(t, shapeModule(funcTypeOf(0, 0), 1, 0, nil))
	tests := []struct {
		name string
		wasm []byte
	}{
		{"Loads", shapeModule(funcTypeOf(0, 0), 1, 0, loads(100))},
		{"LocalsAtMerges", shapeModule(funcTypeOf(0, 0), 1, 100, bytes.Repeat([]byte{0x02, 0x40, 0x0b}, 100))},
		{"Params", shapeModule(funcTypeOf(100, 0), 1, 0, nil)},
		{"Results", shapeModule(funcTypeOf(0, 100), 1, 0, bytes.Repeat([]byte{0x42, 0x00}, 100))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := weight(t, tt.wasm); w < empty+1000 {
				t.Fatalf("weighs %d slots, an empty function %d: want 1,000 more at least", w, empty)
			}
		})
	}
	t.Run("ErrLimit", func(t *testing.T) {
		n := abi.MaxFunctionFrameSlots/int(opVRegs[0x29]) + 1
		_, err := Instrument(shapeModule(funcTypeOf(0, 0), 1, 0, loads(n)))
		if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "its frame could take") {
			t.Fatalf("Instrument of %d loads: %v, want ErrLimit for its frame", n, err)
		}
	})
}

// TestInstrument_weightWritten: the weight is written wherever the count's
// code takes it, on entry, on the way out and before a tail call, once
// body knows it: the same number, never the placeholder.
func TestInstrument_weightWritten(t *testing.T) {
	code := []byte{0x41, 0x00, 0x04, 0x40, 0x12, 0x00, 0x0b} // i32.const 0  if  return_call 0  end
	m, err := Read(shapeModule(funcTypeOf(0, 0), 1, 0, code))
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Instrument()
	if err != nil {
		t.Fatal(err)
	}
	g := appendU32([]byte{opGlobalGet}, m.globals+stackGlobal)
	want := append([]byte{opI32Const}, make([]byte, weightBytes)...)
	putWeight(want[1:], uint32(m.maxWeight))
	if got := bytes.Count(out, append(g, want...)); got != 3 {
		t.Fatalf("the weight %d follows the count's global.get %d times, want 3 (entry, tail call, end)", m.maxWeight, got)
	}
	if bytes.Contains(out, append(append(g, opI32Const), weightPlaceholder[:]...)) {
		t.Fatal("a placeholder is left")
	}
}
