package interrupt

import (
	"fmt"

	"github.com/warden-rpc/warden/abi"
)

// Opcodes and prefixes the rewriter acts on or reads immediates of.
const (
	opUnreachable  = 0x00
	opBlock        = 0x02
	opLoop         = 0x03
	opIf           = 0x04
	opEnd          = 0x0b
	opBr           = 0x0c
	opBrIf         = 0x0d
	opBrTable      = 0x0e
	opReturn       = 0x0f
	opCall         = 0x10
	opCallIndirect = 0x11
	opReturnCall   = 0x12
	opReturnCallI  = 0x13
	opGlobalGet    = 0x23
	opGlobalSet    = 0x24
	opMemoryGrow   = 0x40
	opI32Const     = 0x41
	opI32Eqz       = 0x45
	opI32LtU       = 0x49
	opI32GtU       = 0x4b
	opI32Add       = 0x6a
	opI32Sub       = 0x6b
	opI32And       = 0x71
	opDrop         = 0x1a
	opRefNull      = 0xd0
	opRefFunc      = 0xd2
	prefixMisc     = 0xfc
	prefixSIMD     = 0xfd
	blockEmpty     = 0x40
)

// immediate is the shape of an instruction's immediates.
type immediate uint8

const (
	immNone      immediate = iota + 1
	immBlockType           // block, loop, if
	immU32                 // one index or label
	immU32x2               // two indices
	immBrTable             // vec(label) label
	immSelectT             // vec(valtype)
	immGlobal              // a global index, checked
	immMemArg              // align offset
	immS32                 // i32.const
	immS64                 // i64.const
	immF32                 // 4 bytes
	immF64                 // 8 bytes
	immHeapType            // ref.null
)

// opcodes gives the immediates of every single-byte opcode that wazero
// v1.12 accepts under api.CoreFeaturesV2 (MVP, sign extension, reference
// types, typed select, multi-value), plus the tail calls. Exception
// handling (0x06-0x0a, 0x18, 0x19, 0x1f) is absent: Warden's runtime does
// not enable it, and an opcode missing here is refused, never guessed.
var opcodes = func() (t [256]immediate) {
	set := func(imm immediate, ops ...int) {
		for _, op := range ops {
			t[op] = imm
		}
	}
	set(immNone, 0x00, 0x01, 0x05, 0x0b, 0x0f, 0x1a, 0x1b, 0xd1)
	set(immBlockType, 0x02, 0x03, 0x04)
	set(immU32, 0x0c, 0x0d, 0x10, 0x12, 0x20, 0x21, 0x22, 0x25, 0x26, 0x3f, 0x40, 0xd2)
	set(immU32x2, 0x11, 0x13) // call_indirect, return_call_indirect: type, table
	set(immBrTable, 0x0e)
	set(immSelectT, 0x1c)
	set(immGlobal, 0x23, 0x24)
	for op := 0x28; op <= 0x3e; op++ {
		t[op] = immMemArg
	}
	set(immS32, 0x41)
	set(immS64, 0x42)
	set(immF32, 0x43)
	set(immF64, 0x44)
	for op := 0x45; op <= 0xc4; op++ {
		t[op] = immNone // numeric, including sign extension (0xc0-0xc4)
	}
	set(immHeapType, 0xd0)
	return t
}()

// misc gives the immediates of the 0xfc-prefixed opcodes: saturating
// truncations (0-7), bulk memory and the table instructions (8-17).
var misc = [...]immediate{
	0: immNone, 1: immNone, 2: immNone, 3: immNone, 4: immNone, 5: immNone, 6: immNone, 7: immNone,
	8:  immU32x2, // memory.init data mem
	9:  immU32,   // data.drop
	10: immU32x2, // memory.copy mem mem
	11: immU32,   // memory.fill mem
	12: immU32x2, // table.init elem table
	13: immU32,   // elem.drop
	14: immU32x2, // table.copy table table
	15: immU32,   // table.grow
	16: immU32,   // table.size
	17: immU32,   // table.fill
}

// SIMD immediates beyond none.
const (
	immV128  immediate = 100 + iota // v128.const, i8x16.shuffle: 16 bytes
	immLane                         // a lane index byte
	immMemLn                        // memarg and a lane index byte
)

// simdGaps are the 0xfd opcodes below 0x100 that the SIMD proposal left
// unassigned; wazero refuses them, and so does the rewriter.
var simdGaps = [...]uint32{0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb,
	0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee}

// simd returns the immediates of the 0xfd-prefixed opcode op, or 0 when it
// is not one.
func simd(op uint32) immediate {
	switch {
	case op <= 0x0b, op == 0x5c, op == 0x5d: // loads, store, load_zero
		return immMemArg
	case op == 0x0c, op == 0x0d:
		return immV128
	case op >= 0x15 && op <= 0x22:
		return immLane
	case op >= 0x54 && op <= 0x5b:
		return immMemLn
	case op > 0xff:
		return 0
	}
	for _, g := range simdGaps {
		if op == g {
			return 0
		}
	}
	return immNone
}

// yieldEvery is how many checks pass between two exits to Go: a power of
// two, so that the count is tested with a mask.
const yieldEvery = 1 << 16

// check is the instruction sequence inserted at every function entry and
// loop head. It leaves the stack as it found it:
//
//	global.get $flag  if  unreachable  end
//	global.get $count  i32.const 1  i32.add  global.set $count
//	global.get $count  i32.const 0xffff  i32.and  i32.eqz
//	if  i32.const 0  memory.grow 0  drop  end
//
// The first line stops the guest once the host set the flag. The rest
// leaves the compiled code for Go every yieldEvery checks: memory.grow is
// carried out by Go code, where the Go scheduler can preempt the
// goroutine, which native code never is. Without it, as many looping
// guests as there are Ps would starve the timer that sets their flags.
func check(flag, count uint32) []byte {
	b := appendU32([]byte{opGlobalGet}, flag)
	b = append(b, opIf, blockEmpty, opUnreachable, opEnd)
	b = appendU32(append(b, opGlobalGet), count)
	b = appendU32(append(b, opI32Const, 1, opI32Add, opGlobalSet), count)
	b = appendU32(append(b, opGlobalGet), count)
	b = appendS32(append(b, opI32Const), yieldEvery-1)
	b = append(b, opI32And, opI32Eqz, opIf, blockEmpty)
	return append(b, opI32Const, 0, opMemoryGrow, 0, opDrop, opEnd)
}

// compileCost is what a function with width values to merge (its locals,
// parameters and results and the widest block type's values) and blocks
// block, loop and if instructions, branches and br_table targets costs
// wazero's optimizing compiler, in its units: the compiler merges every such value at every
// one of those points, so its time and memory grow with the product (a 22
// KB function of 2,000 locals and 2,000 blocks took 15 s and 880 MiB to
// compile; 2,000 parameters instead of locals, 13 s; a br_table of 20,000
// targets with 2,000 locals, three minutes).
func compileCost(width, blocks uint64) uint64 { return (width + 1) * blocks }

// bodyStats is what body counted in a function.
type bodyStats struct {
	cost   uint64 // compileCost
	loops  uint64
	blocks uint64 // block, loop and if instructions and br_table targets
	weight uint64 // its frame's bound, in slots (frame)
}

// fnEnv is what body needs to know besides the code: the module, the
// function's type, and the block type its body runs in.
type fnEnv struct {
	m  *Module
	ft funcType
	bt []byte
}

// body rewrites one function body (its locals and code, without the size):
// it inserts ins.check after the locals and after every loop's block type,
// ins.bulk before every bulk memory or table instruction and ins.run in
// long runs of code, and refuses a reference to a global at or past globals.
//
// It also keeps the call-stack count (stackIn, stackOut): the body runs in
// a block of the function's results (bt, its block type), so that every
// way out, a branch to the function's label or a return, made a branch
// to that block, passes the code after it, which takes the function's
// weight away; a tail call takes it away before it leaves.
//
// The weight is the bound of the function's frame (frame), counted as
// body reads the code, the code it inserts too, and written where the
// count's code has a placeholder once the body is read.
//
// It returns the function's compile cost (compileCost), loops and weight,
// given env, and refuses a function that costs more than
// abi.MaxFunctionCompileCost, nests deeper than abi.MaxBlockDepth, has
// more loops or blocks than abi.MaxFunctionLoops or abi.MaxFunctionBlocks,
// or weighs more than abi.MaxFunctionFrameSlots.
func body(out []byte, r *reader, ins *inserts, env fnEnv) ([]byte, bodyStats, error) {
	var st bodyStats
	globals, ft, types := env.m.globals, env.ft, env.m.types
	decls, err := r.count(2)
	if err != nil {
		return nil, st, fmt.Errorf("locals: %w", err)
	}
	var locals uint64
	for range decls {
		n, err := r.u32()
		if err != nil {
			return nil, st, fmt.Errorf("locals: %w", err)
		}
		if locals += uint64(n); locals > abi.MaxFunctionLocals {
			return nil, st, fmt.Errorf("declares more than %d locals: %w", abi.MaxFunctionLocals, ErrLimit)
		}
		if err := valType(r); err != nil {
			return nil, st, fmt.Errorf("locals: %w", err)
		}
	}
	out = append(append(out, r.b[:r.pos]...), ins.check...)
	weightAt := append(ins.weightAt[:0], len(out)+ins.stackInWeight) // where the weight goes, once known
	out = append(append(out, ins.stackIn...), opBlock)
	out = append(out, env.bt...)
	var fr frame
	var steps, bulks, tailCalls uint64
	from, mark := r.pos, r.pos // mark: where the code since the last check or step starts
	// blocks: block, loop and if, and br_table targets, the points where
	// the compiler merges every value; arity: the widest block type's
	// parameters and results, merged there too.
	// edges: br and br_if, each one more place where the values its
	// label carries are merged.
	var blocks, arity, depth, edges uint64
	for r.left() > 0 {
		at, p := r.offset(), r.pos
		if p-mark >= runBytes {
			out = append(append(out, r.b[from:p]...), ins.run...)
			from, mark = p, p
			steps++
		}
		op, err := r.byte()
		if err != nil {
			return nil, st, err
		}
		if err := instruction(r, op, globals); err != nil {
			return nil, st, fmt.Errorf("offset %#x: %w", at, err)
		}
		fr.add(r.b[p:r.pos], env.m)
		switch op {
		case opBlock, opLoop, opIf:
			blocks++
			if depth++; depth > abi.MaxBlockDepth {
				return nil, st, fmt.Errorf("offset %#x: nests blocks, loops and ifs more than %d deep: %w", at, abi.MaxBlockDepth, ErrLimit)
			}
			if t, ok := blockTypeIndex(r.b[p+1:]); ok && t < uint64(len(types)) {
				arity = max(arity, types[t].params+types[t].results)
			}
			if op == opLoop {
				if st.loops++; st.loops > abi.MaxFunctionLoops {
					return nil, st, fmt.Errorf("offset %#x: has more than %d loops: %w", at, abi.MaxFunctionLoops, ErrLimit)
				}
			}
		case opEnd:
			depth = max(depth, 1) - 1
		case opBr, opBrIf:
			edges++
		case opBrTable:
			if n, err := (&reader{b: r.b[p+1:]}).u32(); err == nil {
				blocks += uint64(n) + 1
			}
		case opReturn: // a branch to the block the body runs in, depth blocks out
			out = appendU32(append(append(out, r.b[from:p]...), opBr), uint32(depth))
			from = r.pos
		case opReturnCall, opReturnCallI: // leaves the function: its weight first
			out = append(append(out, r.b[from:p]...), ins.stackOut...)
			weightAt = append(weightAt, len(out)-len(ins.stackOut)+ins.stackOutWeight)
			from = p
			tailCalls++
		}
		if blocks > abi.MaxFunctionBlocks {
			return nil, st, fmt.Errorf("offset %#x: has more than %d blocks, loops, ifs and br_table targets: %w", at, abi.MaxFunctionBlocks, ErrLimit)
		}
		switch {
		case op == opLoop:
			out = append(append(out, r.b[from:r.pos]...), ins.check...)
			from, mark = r.pos, r.pos
		case op == prefixMisc && isBulk(miscOpcode(r.b[p+1:])):
			out = append(append(out, r.b[from:p]...), ins.bulk...)
			from, mark = p, p
			bulks++
		}
	}
	if len(r.b) == 0 || r.b[len(r.b)-1] != opEnd {
		return nil, st, fmt.Errorf("offset %#x: the body does not end with end", r.offset())
	}
	st.blocks = blocks
	width := locals + ft.params + ft.results + arity
	if st.cost = compileCost(width, blocks+edges); st.cost > abi.MaxFunctionCompileCost {
		return nil, st, fmt.Errorf("would cost the compiler %d (%d locals, parameters, results and block values + 1, times %d blocks, loops, ifs, branches and br_table targets), more than the limit of %d: %w",
			st.cost, width, blocks+edges, abi.MaxFunctionCompileCost, ErrLimit)
	}
	// The body's last end closes the block it runs in; the weight is
	// taken away after it, and a new end ends the function.
	out = append(append(out, r.b[from:]...), ins.stackOut...)
	weightAt = append(weightAt, len(out)-len(ins.stackOut)+ins.stackOutWeight)
	fr.addAll(ins.checkFrame, 1+st.loops)
	fr.addAll(ins.stackFrame, 1+tailCalls)
	fr.addAll(ins.bulkFrame, bulks)
	fr.addAll(ins.runFrame, steps)
	fr.v128 = fr.v128 || r.v128 || env.m.v128
	if st.weight = fr.slots(ft.params, ft.results, locals); st.weight > abi.MaxFunctionFrameSlots {
		return nil, st, fmt.Errorf("its frame could take %d slots of the call stack, more than the limit of %d: %w", st.weight, abi.MaxFunctionFrameSlots, ErrLimit)
	}
	for _, at := range weightAt {
		putWeight(out[at:], uint32(st.weight))
	}
	ins.weightAt = weightAt
	return append(out, opEnd), st, nil
}

// blockTypeIndex returns the type index of the block type at the start of
// b, when it is one (a multi-value block type) rather than empty or a
// value type.
func blockTypeIndex(b []byte) (uint64, bool) {
	if len(b) == 0 || b[0] == blockEmpty || isValType(b[0]) {
		return 0, false
	}
	v, err := (&reader{b: b}).sleb(33)
	if err != nil || v < 0 {
		return 0, false
	}
	return uint64(v), true
}

// instruction reads the immediates of the instruction op.
func instruction(r *reader, op byte, globals uint32) error {
	imm := opcodes[op]
	switch op {
	case prefixMisc:
		sub, err := r.u32()
		if err != nil {
			return err
		}
		if sub >= uint32(len(misc)) {
			return fmt.Errorf("unknown opcode 0xfc %d", sub)
		}
		imm = misc[sub]
	case prefixSIMD:
		// One byte, as wazero v1.12 reads it (validation and compiler
		// alike), not the LEB128 number of the binary format: a reader
		// that decoded an overlong 0xfd 0x8c 0x00 as v128.const would
		// take 16 bytes of code that wazero runs for a constant, and a
		// loop in them would never be checked. The format's two-byte
		// encodings of opcodes from 0x80 read as that opcode and a nop
		// (0x01) here as there.
		sub, err := r.byte()
		if err != nil {
			return err
		}
		if imm = simd(uint32(sub)); imm == 0 {
			return fmt.Errorf("unknown opcode 0xfd %d", sub)
		}
	}
	if imm == 0 {
		return fmt.Errorf("unknown opcode %#x", op)
	}
	return immediates(r, imm, globals)
}

// immediates reads immediates of shape imm.
func immediates(r *reader, imm immediate, globals uint32) error {
	var err error
	switch imm {
	case immNone:
	case immBlockType:
		err = blockType(r)
	case immU32:
		_, err = r.u32()
	case immU32x2, immMemArg:
		if _, err = r.u32(); err == nil {
			_, err = r.u32()
		}
	case immMemLn:
		if err = immediates(r, immMemArg, globals); err == nil {
			_, err = r.byte()
		}
	case immBrTable:
		var n uint32
		if n, err = r.count(1); err == nil {
			for i := uint32(0); i <= n && err == nil; i++ {
				_, err = r.u32()
			}
		}
	case immSelectT:
		var n uint32
		if n, err = r.count(1); err == nil {
			for i := uint32(0); i < n && err == nil; i++ {
				err = valType(r)
			}
		}
	case immGlobal:
		err = globalIndex(r, globals)
	case immS32:
		_, err = r.sleb(32)
	case immS64:
		_, err = r.sleb(64)
	case immF32:
		_, err = r.bytes(4)
	case immF64:
		_, err = r.bytes(8)
	case immV128:
		_, err = r.bytes(16)
	case immLane, immHeapType:
		_, err = r.byte()
	}
	return err
}

// globalIndex reads a global index and refuses one at or past globals: the
// module's own globals end there, and the flag comes next.
func globalIndex(r *reader, globals uint32) error {
	idx, err := r.u32()
	if err != nil {
		return err
	}
	if idx >= globals {
		return fmt.Errorf("global %d: the module has %d globals: %w", idx, globals, ErrGlobalIndex)
	}
	return nil
}

// blockType reads a block type: empty, a value type or a type index (s33).
func blockType(r *reader) error {
	if r.left() > 0 {
		if c := r.b[r.pos]; c == blockEmpty || isValType(c) {
			r.pos++
			return nil
		}
	}
	v, err := r.sleb(33)
	if err == nil && v < 0 {
		err = fmt.Errorf("block type %d: %w", v, errLEB)
	}
	return err
}

// isValType reports whether c is a value type of CoreFeaturesV2: i32, i64,
// f32, f64, v128, funcref or externref.
func isValType(c byte) bool {
	return c >= 0x7b && c <= 0x7f || c == 0x70 || c == 0x6f
}

// valType reads a value type, and notes in r a v128.
func valType(r *reader) error {
	c, err := r.byte()
	if err == nil && !isValType(c) {
		err = fmt.Errorf("value type %#x: not one of this runtime's", c)
	}
	r.v128 = r.v128 || c == 0x7b
	return err
}
