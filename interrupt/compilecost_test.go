package interrupt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// shapeModule returns a module of funcs functions of type t (a type
// section entry), each with locals i64 locals and the body code (without
// its end), with a memory and the module's other types () -> () and
// () -> i32 at indices 1 and 2. Only Instrument reads it: it need not
// validate.
func shapeModule(t []byte, funcs, locals int, code []byte) []byte {
	uv := func(n int) []byte { return binary.AppendUvarint(nil, uint64(n)) }
	m := newMod().sec(1, 3, t, types[0], types[1])
	m.sec(3, funcs, bytes.Repeat([]byte{0}, funcs))
	m.sec(5, 1, memory)
	body := cat([]byte{1}, uv(locals), []byte{0x7e}, code, []byte{0x0b})
	entry := cat(uv(len(body)), body)
	return m.sec(10, funcs, bytes.Repeat(entry, funcs)).b
}

// funcTypeOf returns a type section entry of params i64 parameters and
// results i64 results.
func funcTypeOf(params, results int) []byte {
	uv := func(n int) []byte { return binary.AppendUvarint(nil, uint64(n)) }
	return cat([]byte{0x60}, uv(params), bytes.Repeat([]byte{0x7e}, params), uv(results), bytes.Repeat([]byte{0x7e}, results))
}

// TestInstrument_compileCostShapes: the shapes a hostile review compiled
// for seconds to minutes while the cost model let them through, because it
// counted declared locals times block, loop and if instructions only. Each
// is refused now, and a shape just under each bound is not.
func TestInstrument_compileCostShapes(t *testing.T) {
	blocks := func(n int) []byte { return bytes.Repeat([]byte{0x02, 0x40, 0x41, 0x00, 0x0d, 0x00, 0x0b}, n) }
	nested := func(op byte, n int) []byte {
		return cat(bytes.Repeat([]byte{op, 0x40}, n), bytes.Repeat([]byte{0x0b}, n))
	}
	brTable := func(targets int) []byte {
		uv := binary.AppendUvarint(nil, uint64(targets))
		return cat([]byte{0x02, 0x40, 0x41, 0x00, 0x0e}, uv, bytes.Repeat([]byte{0}, targets), []byte{0, 0x0b})
	}
	// A block of type 0 (the function's own type, here of many results).
	typedBlocks := func(n int) []byte { return bytes.Repeat([]byte{0x02, 0x00, 0x0b}, n) }
	// Branches carrying the function's results to its label: no block at
	// all, each br_if an edge that merges every result.
	brIfs := func(results, n int) []byte {
		return cat(bytes.Repeat([]byte{0x42, 0x00}, results), bytes.Repeat([]byte{0x20, 0x00, 0x0d, 0x00}, n))
	}
	tests := []struct {
		name string
		wasm []byte
		want string // "" when it must pass
	}{
		{"BranchesCarryingResults", shapeModule(funcTypeOf(1, 2000), 1, 0, brIfs(2000, 2000)), "would cost the compiler"},
		{"ManyBranchesCarryingResults", shapeModule(funcTypeOf(1, 1000), 1, 0, brIfs(1000, 8000)), "would cost the compiler"},
		{"BranchesCarryingResultsUnder", shapeModule(funcTypeOf(1, 4), 1, 0, brIfs(4, 2000)), ""},
		{"Params", shapeModule(funcTypeOf(2000, 0), 1, 0, blocks(2000)), "would cost the compiler"},
		{"ParamsUnder", shapeModule(funcTypeOf(100, 0), 1, 0, blocks(2000)), ""},
		{"BlockTypeArity", shapeModule(funcTypeOf(0, 2000), 1, 0, typedBlocks(2000)), "would cost the compiler"},
		{"BrTableTargets", shapeModule(funcTypeOf(0, 0), 1, 2000, brTable(20000)), "blocks, loops, ifs and br_table targets"},
		{"BrTableTargetsCost", shapeModule(funcTypeOf(0, 0), 1, 2000, brTable(5000)), "would cost the compiler"},
		{"NestedLoops", shapeModule(funcTypeOf(0, 0), 1, 0, nested(0x03, abi.MaxBlockDepth+1)), "more than 1024 deep"},
		{"NestedLoopsAtTheBound", shapeModule(funcTypeOf(0, 0), 1, 0, nested(0x03, abi.MaxBlockDepth)), ""},
		{"NestedBlocks", shapeModule(funcTypeOf(0, 0), 1, 0, nested(0x02, 80000)), "more than 1024 deep"},
		{"LoopsInARow", shapeModule(funcTypeOf(0, 0), 1, 0, bytes.Repeat([]byte{0x03, 0x40, 0x0b}, abi.MaxFunctionLoops+1)), "more than 1024 loops"},
		{"LoopsInManyFunctions", shapeModule(funcTypeOf(0, 0), abi.MaxModuleLoops/abi.MaxFunctionLoops+1, 0,
			bytes.Repeat([]byte{0x03, 0x40, 0x0b}, abi.MaxFunctionLoops)), "more than 8192 loops"},
		{"BlocksInARow", shapeModule(funcTypeOf(0, 0), 1, 0, blocks(abi.MaxFunctionBlocks+1)), "more than 8192 blocks"},
		{"BlocksInManyFunctions", shapeModule(funcTypeOf(0, 0), 5, 0, blocks(abi.MaxFunctionBlocks)), "too many blocks for the compiler together"},
		{"BlocksInFourFunctions", shapeModule(funcTypeOf(0, 0), 4, 0, blocks(abi.MaxFunctionBlocks-1)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Instrument(tt.wasm)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Instrument: %v, want ErrLimit saying %q", err, tt.want)
			}
		})
	}
}
