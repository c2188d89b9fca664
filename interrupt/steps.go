package interrupt

import "github.com/warden-rpc/warden/abi"

// bulkWeight is how many checks a bulk memory or table instruction
// (memory.init, memory.copy, memory.fill, table.init, table.copy,
// table.fill) counts for: one such instruction can copy the whole memory,
// milliseconds, where a check of a plain loop marks nanoseconds. Counted as
// one, a loop of them left for Go once in minutes, and as many such guests
// as there are Ps starved every timer; at this weight they leave at most
// yieldEvery/bulkWeight (64) of them apart.
const bulkWeight = 1 << 10

// Long runs of code between checks count too: a loop whose body is
// thousands of loads that miss the cache passed one check per iteration,
// and left for Go seconds apart. A step of runWeight is inserted before
// the first instruction that starts runBytes or more of original code
// after the last check or step: at most about a hundred microseconds of
// the slowest code per step, a few percent of code size.
const (
	runBytes  = 1 << 10
	runWeight = 1 << 4
)

// step is inserted before every bulk memory or table instruction (weight
// bulkWeight) and in long runs of code (runWeight); it leaves the stack
// (the next instruction's operands) as it found it:
//
//	global.get $count  i32.const weight  i32.add  global.set $count
//	global.get $count  i32.const 0xffff  i32.and  i32.const weight  i32.lt_u
//	if  i32.const 0  memory.grow 0  drop  end
//
// The count crossed a multiple of yieldEvery exactly when its remainder is
// now below the step: the plain checks (step 1) test for 0, which is the
// same rule, so every crossing leaves for Go once.
func step(count uint32, weight int32) []byte {
	b := appendU32([]byte{opGlobalGet}, count)
	b = appendS32(append(b, opI32Const), weight)
	b = appendU32(append(b, opI32Add, opGlobalSet), count)
	b = appendU32(append(b, opGlobalGet), count)
	b = appendS32(append(b, opI32Const), yieldEvery-1)
	b = appendS32(append(b, opI32And, opI32Const), weight)
	b = append(b, opI32LtU, opIf, blockEmpty)
	return append(b, opI32Const, 0, opMemoryGrow, 0, opDrop, opEnd)
}

// isBulk reports whether the 0xfc-prefixed opcode sub is a bulk memory or
// table instruction whose cost grows with its operands.
func isBulk(sub uint32) bool {
	switch sub {
	case 8, 10, 11, 12, 14, 17: // memory.init, .copy, .fill; table.init, .copy, .fill
		return true
	}
	return false
}

// inserts are the sequences body inserts, made once per module, with
// their frames (frame), and body's buffer of where a weight goes.
type inserts struct {
	check, bulk, run []byte
	// stackIn and stackOut are the call-stack count's code, with a
	// placeholder for the weight at stackInWeight and stackOutWeight.
	stackIn, stackOut               []byte
	stackInWeight, stackOutWeight   int
	checkFrame, bulkFrame, runFrame *frame
	stackFrame                      *frame // stackIn and stackOut
	weightAt                        []int
}

// newInserts returns the sequences for a module whose added globals
// (flagGlobal...) start at the global flag.
func newInserts(flag uint32, m *Module) *inserts {
	count := flag + countGlobal
	ins := &inserts{check: check(flag+flagGlobal, count), bulk: step(count, bulkWeight), run: step(count, runWeight)}
	ins.stackIn, ins.stackInWeight = stackIn(flag + stackGlobal)
	ins.stackOut, ins.stackOutWeight = stackOut(flag + stackGlobal)
	ins.checkFrame, ins.bulkFrame, ins.runFrame = frameOf(ins.check, m), frameOf(ins.bulk, m), frameOf(ins.run, m)
	ins.stackFrame = frameOf(append(append([]byte{}, ins.stackIn...), ins.stackOut...), m)
	return ins
}

// weightBytes is how long a weight is in the count's code: an i32.const's
// LEB128 padded to five bytes, so that body writes it once it knows it;
// weightPlaceholder holds its place until then.
const weightBytes = 5

var weightPlaceholder = [weightBytes]byte{0x80, 0x80, 0x80, 0x80, 0x00}

// stackIn returns the code a function runs on entry, and where its
// weight goes in it: it adds the weight to the call-stack count, the
// global g, and traps past abi.MaxCallStackSlots. stackOut, run on every
// way out, takes the weight away. A call that traps leaves the count
// high, but an instance is never used after a trap.
func stackIn(g uint32) ([]byte, int) {
	b := appendU32([]byte{opGlobalGet}, g)
	at := len(b) + 1
	b = append(append(b, opI32Const), weightPlaceholder[:]...)
	b = appendU32(append(b, opI32Add, opGlobalSet), g)
	b = appendU32(append(b, opGlobalGet), g)
	b = appendS32(append(b, opI32Const), abi.MaxCallStackSlots)
	return append(b, opI32GtU, opIf, blockEmpty, opUnreachable, opEnd), at
}

// stackOut returns the code that takes a function's weight away from the
// call-stack count g, and where the weight goes in it.
func stackOut(g uint32) ([]byte, int) {
	b := appendU32([]byte{opGlobalGet}, g)
	at := len(b) + 1
	b = append(append(b, opI32Const), weightPlaceholder[:]...)
	return appendU32(append(b, opI32Sub, opGlobalSet), g), at
}

// putWeight writes w, at most 2^31-1, over the padded placeholder at the
// start of b.
func putWeight(b []byte, w uint32) {
	for i := range weightBytes - 1 {
		b[i] = byte(w>>(7*i))&0x7f | 0x80
	}
	b[weightBytes-1] = byte(w >> 28)
}

// miscOpcode decodes the 0xfc-prefixed opcode at the start of b, which
// instruction has read without error.
func miscOpcode(b []byte) uint32 {
	sub, _ := (&reader{b: b}).u32()
	return sub
}
