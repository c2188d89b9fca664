package interrupt

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero/api"
)

// TestInstrument_simdOpcodeOneByte: wazero reads the opcode after the SIMD
// prefix 0xfd as one byte, not as the LEB128 number of the binary format.
// An overlong encoding, 0xfd 0x8c 0x00, is v128.const (0x0c) and 16 bytes
// of constant to a LEB128 reader, but i16x8.shr_s (0x8c), unreachable
// (0x00) and 16 bytes of code to wazero: a loop hidden in those bytes, and
// reached by a branch out of an enclosing block, would run without a
// check, for ever. The rewriter must read the opcode as wazero does, or
// refuse such an encoding.
func TestInstrument_simdOpcodeOneByte(t *testing.T) {
	hidden := []byte{0x0b, 0x03, 0x40, 0x0c, 0x00, 0x0b} // end (the block), loop, br 0, end
	for len(hidden) < 16 {
		hidden = append(hidden, 0x01) // nop
	}
	body := cat([]byte{0x02, 0x40, 0x0c, 0x00, 0xfd, 0x8c, 0x00}, hidden, []byte{0x0b})
	wasm := loopModule([]byte{0}, fn(body...))
	out, err := Instrument(wasm)
	if err != nil {
		return // refused: the loop cannot hide
	}
	if err := compile(t, out); err != nil {
		return // wazero refuses what the rewriter wrote
	}
	mod, flag := instantiate(t, wasm, api.CoreFeaturesV2)
	interruptCall(t, mod, flag, "f0")
}

// TestInstrument_simdTwoByteOpcode: the format's own encoding of a SIMD
// opcode from 0x80, i16x8.abs as 0xfd 0x80 0x01, still runs as before and
// leaves the loop after it checked.
func TestInstrument_simdTwoByteOpcode(t *testing.T) {
	v := []byte{0xfd, 0x0c, 0xfb, 0xff} // v128.const, lane 0 of i16x8: -5
	v = append(v, make([]byte, 14)...)
	abs := []byte{0xfd, 0x80, 0x01}
	lane0 := []byte{0xfd, 0x18, 0x00} // i16x8.extract_lane_s 0
	f0 := fn(cat(v, abs, lane0, []byte{0x0b})...)
	f1 := fn(cat(v, abs, []byte{0x1a, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b})...) // drop; loop br 0 end
	mod, flag := instantiate(t, loopModule([]byte{1, 0}, f0, f1), api.CoreFeaturesV2)
	res, err := mod.ExportedFunction("f0").Call(context.Background())
	if err != nil || res[0] != 5 {
		t.Fatalf("f0 = %v, %v; want 5", res, err)
	}
	interruptCall(t, mod, flag, "f1")
}
