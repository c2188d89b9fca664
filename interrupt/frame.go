package interrupt

// frame bounds the frame that wazero's optimizing compiler (wazevo, v1.12,
// amd64 and arm64) can build for one function, in 8-byte slots: the
// function's weight in the call-stack count (stackIn). body counts the
// function into it as it reads it, the code it inserts too. Over-counting
// costs depth; under-counting lets a recursion grow wazero's stack past
// what the count says (RATIONALE.md, "A call's depth is counted by the
// guest itself", derives it in full).
//
// A frame is what the prologue reserves (requiredStackSize): the return
// address and frame pointer, 32 bytes with the stack check's; the
// callee-saved registers the function uses, 16 bytes each; a spill slot of
// its own for every virtual register that is ever spilled (a map by
// register, never reused: getVRegSpillSlotOffsetFromSP), 4, 8 or 16 bytes
// by type; and the stack area for the arguments and results of the calls
// it makes that do not fit in registers. Any virtual register can be
// spilled, so the frame is bounded by all of them: every SSA value (one
// per instruction result, per block parameter and per function result)
// and every temporary the backend allocates lowering an instruction or
// passing a block's arguments:
//
//   - instructions: opVRegs, miscVRegs and simdVRegs, derived from
//     wazero's sources (TestOpVRegs_derived), plus, for a call, one
//     register per argument and two per result, its value and the
//     backend's copy;
//   - merges: the start of a block, an if, a loop (and the code after
//     it) and the block the body runs in, where the SSA builder may make
//     every local and parameter a block parameter, and the block type's
//     own values;
//   - jumps: the end of each of those, a loop's entry, the other side of
//     an if, each br, br_if and br_table target, each passing at most
//     every local and parameter and the widest block type's values, one
//     temporary each when the moves overlap;
//   - the function's parameters and two context pointers, its results
//     (the return block's parameters and registers, and their copies on
//     the way out), and the zero constants its locals start from.
//
// Each register is 8 bytes (1 slot), or 16 (2) when the module or the
// function has v128 values at all.
type frame struct {
	vregs  uint64 // the instructions' own virtual registers
	merges uint64 // places where every local may become a block parameter
	jumps  uint64 // jumps that may pass every local and a block type's values
	arity  uint64 // the block types' values at merges
	wide   uint64 // the widest block type's values one jump passes
	calls  uint64 // the widest signature called: parameters and results
	v128   bool
}

// Fixed parts of a frame, in slots (8 bytes).
const (
	// frameFixedSlots: the return address and the caller's frame pointer,
	// and 16 bytes the stack check adds (amd64; arm64's frame size word).
	frameFixedSlots = 4
	// savedRegSlots: the callee-saved registers a function may use, 16
	// bytes each: amd64's rdx, r12-r15 and xmm8-15 (13), arm64's x19-x26
	// and v18-v30 that it allocates (21).
	savedRegSlots = 21 * 2
	// callSlots: the stack area of the calls wazero makes from any
	// function to its own helpers (memory.grow, whose trampoline keeps a
	// small frame too), at most 64 bytes.
	callSlots = 8
)

// add counts in the instruction op at the start of code (code[0] is op),
// which instruction has read without error, for a function in module m.
func (f *frame) add(code []byte, m *Module) {
	imm := &reader{b: code, pos: 1}
	op := code[0]
	f.vregs += uint64(opVRegs[op])
	switch op {
	case prefixMisc:
		sub, _ := imm.u32()
		f.vregs += uint64(miscVRegs[sub])
	case prefixSIMD:
		f.vregs += uint64(simdVRegs[code[1]])
		f.v128 = true
	case opBlock:
		f.block(code[1:], m, 1, 1)
	case opIf: // its end, and the else side's jump
		f.block(code[1:], m, 1, 2)
	case opLoop: // the header and the code after it; the entry and the end
		f.block(code[1:], m, 2, 2)
	case opBr, opBrIf, opReturn: // return: made a branch to the body's block
		f.jumps++
	case opBrTable:
		n, _ := imm.u32()
		f.jumps += uint64(n) + 1
	case opCall, opCallIndirect, opReturnCall, opReturnCallI:
		idx, _ := imm.u32()
		t := m.calleeType(idx)
		if op == opCallIndirect || op == opReturnCallI {
			t = m.typeAt(idx)
		}
		f.vregs += t.params + 2*t.results
		f.calls = max(f.calls, t.params+t.results)
	}
}

// block counts in a block, loop or if of block type bt (at the start of
// b): merges places where locals merge, jumps jumps to them.
func (f *frame) block(bt []byte, m *Module, merges, jumps uint64) {
	var params, results uint64
	switch {
	case len(bt) == 0 || bt[0] == blockEmpty:
	case isValType(bt[0]):
		results = 1
	default:
		if t, ok := blockTypeIndex(bt); ok {
			tt := m.typeAt(uint32(min(t, 1<<32-1)))
			params, results = tt.params, tt.results
		}
	}
	f.merges += merges
	f.jumps += jumps
	f.arity += merges * (params + results)
	f.wide = max(f.wide, params, results)
}

// addAll counts in g, times times: code body inserts.
func (f *frame) addAll(g *frame, times uint64) {
	f.vregs += times * g.vregs
	f.merges += times * g.merges
	f.jumps += times * g.jumps
	f.arity += times * g.arity
	f.wide = max(f.wide, g.wide)
	f.calls = max(f.calls, g.calls)
	f.v128 = f.v128 || g.v128
}

// slots returns the frame's bound in slots for a function of params
// parameters, results results and locals locals, given that its body runs
// in a block of its results.
func (f *frame) slots(params, results, locals uint64) uint64 {
	vars := params + locals
	wide := max(f.wide, results)
	vregs := f.vregs + (f.merges+1)*vars + f.arity + results + // the body's own block
		(f.jumps+1)*(vars+wide) + // and its end's jump
		params + 2 + 3*results + // the entry's parameters, the results
		5 // the zero of each value type the locals start from
	size := uint64(1)
	if f.v128 {
		size = 2
	}
	// Arguments and results of a call past the registers, 16 bytes each
	// at most, with the two context pointers, and as much for a host
	// function's trampoline, which copies them into its own frame.
	callArea := 4*(f.calls+2) + 4
	return frameFixedSlots + savedRegSlots + callSlots + callArea + vregs*size + 2 // 16-byte alignment
}

// frameOf returns the frame of the code seq, which body inserts (a
// sequence of whole instructions).
func frameOf(seq []byte, m *Module) *frame {
	f := &frame{}
	r := &reader{b: seq}
	for r.left() > 0 {
		p := r.pos
		op, _ := r.byte()
		_ = instruction(r, op, ^uint32(0))
		f.add(seq[p:r.pos], m)
	}
	return f
}
