// Package interrupt makes a WebAssembly module stoppable from outside: it
// rewrites the module so that every function entry and every loop head
// reads one added global, the interrupt flag, and traps once the host has
// set it. The host sets the flag at a call's deadline; wazero then needs
// no goroutine per call to watch the context (see RATIONALE.md,
// "Interrupting guests with a flag").
//
// Its reader is the host's one reader of a module's bytes: Read walks the
// sections once and records what the module declares (Decls), for the
// host's limits, and the memory cap (Module.CapMemory) is written by the
// same rewrite (see RATIONALE.md, "One reader of the module").
package interrupt

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/warden-rpc/warden/abi"
)

var (
	// ErrReserved is returned for a module that already imports or
	// exports abi.ExportInterrupt or abi.ExportStart.
	ErrReserved = errors.New("the name is reserved for the host")
	// ErrGlobalIndex is returned for a module that refers to a global it
	// does not have: after the rewrite that index could be the flag's.
	ErrGlobalIndex = errors.New("refers to a global past the module's own")
	// ErrLimit is returned for a module that declares more than wazero
	// could compile without exhausting memory: more locals in a function
	// than abi.MaxFunctionLocals, or a count larger than the bytes that
	// follow it could hold.
	ErrLimit = errors.New("over the host's limit")
)

// Section ids of the WebAssembly binary format.
const (
	secCustom   = 0
	secType     = 1
	secImport   = 2
	secFunction = 3
	secTable    = 4
	secMemory   = 5
	secGlobal   = 6
	secExport   = 7
	secStart    = 8
	secElement  = 9
	secCode     = 10
	secData     = 11
	secDataCnt  = 12
	secTag      = 13
	exportFunc  = 0x00
	exportGlob  = 0x03
	headerBytes = 8
)

// order is each known section's place in a module; sections must come in
// this order, each at most once. Custom sections may appear anywhere.
var order = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, secTag: 6, secGlobal: 7, secExport: 8,
	secStart: 9, secElement: 10, secDataCnt: 11, secCode: 12, secData: 13}

// Instrument returns wasm rewritten so that the host can stop it:
//
//   - a mutable i32 global, initially 0, is appended and exported as
//     abi.ExportInterrupt; setting it to non-zero makes the guest trap
//     (unreachable) at its next function entry or loop iteration;
//   - a second one counts those checks, and every 65,536th calls
//     memory.grow 0, so that the Go scheduler can preempt the goroutine
//     and run the timer that sets the flag (see check); a bulk memory or
//     table instruction, and every long run of code, count as more
//     checks (see step);
//   - a third counts the call stack: each function adds its weight, a
//     bound of the frame wazero's compiler can build for it (frame), on
//     entry and takes it away on every way out, and traps past
//     abi.MaxCallStackSlots; it is exported as abi.ExportCallStack;
//   - a start section is removed and its function exported as
//     abi.ExportStart, for the host to call under a deadline;
//   - custom sections named .debug_* are dropped, as the code offsets
//     they describe move; the others are kept.
//
// wasm itself is not modified.
//
// # Errors
//
// It refuses a malformed module (with the section or function and the
// offset), an instruction it does not know, a module that imports or
// exports a reserved name (ErrReserved), one that refers to a global
// index it does not have (ErrGlobalIndex), one over a limit of the host's
// (ErrLimit), and one without a memory. Only what wazero would refuse
// anyway, or an attack, is refused.
func Instrument(wasm []byte) ([]byte, error) {
	m, err := Read(wasm)
	if err != nil {
		return nil, err
	}
	return m.Instrument()
}

// section is one section of the module: its id and its contents.
type section struct {
	id      byte
	start   int // offset of the contents in the module
	content []byte
}

// Module is a module that Read has split into its sections and checked,
// every section but the code, which Instrument reads as it rewrites it.
// It is what the rewrite needs to know of the module, and what the module
// declares (Decls).
type Module struct {
	wasm           []byte
	sections       []section
	importedFuncs  uint32
	globals        uint32 // imported and defined
	definedGlobals uint32
	start          uint32
	hasStart       bool
	hasMemory      bool
	decls          Decls
	memories       []limit // the memories the memory section defines
	memCap         uint32  // the maximum of those memories, when capped
	capped         bool
	types          []funcType // the type section's
	funcTypes      []uint32   // the function section's: each defined function's type
	importTypes    []uint32   // each imported function's type
	v128           bool       // a type, import or global has v128 values
	maxWeight      uint64     // the heaviest function's weight, once instrumented
}

// scan splits wasm into its sections and checks every part the rewrite
// depends on.
func scan(wasm []byte) (*Module, error) {
	m := &Module{wasm: wasm}
	r := &reader{b: wasm, pos: headerBytes}
	last := 0
	for r.left() > 0 {
		at := r.offset()
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("section %d at %#x: size: %w", id, at, err)
		}
		start := r.pos
		content, err := r.bytes(uint64(size))
		if err != nil {
			return nil, fmt.Errorf("section %d at %#x: size %d: %w", id, at, size, err)
		}
		if id != secCustom {
			rank, ok := order[id]
			if !ok || rank <= last {
				return nil, fmt.Errorf("section %d at %#x: unknown, repeated or out of order", id, at)
			}
			last = rank
		}
		m.sections = append(m.sections, section{id: id, start: start, content: content})
	}
	for _, s := range m.sections {
		if err := m.check(s); err != nil {
			return nil, err
		}
	}
	m.decls.Globals = uint64(m.globals)
	return m, nil
}

// check reads section s, in module order, and records or refuses what the
// rewrite depends on.
func (m *Module) check(s section) error {
	r := &reader{b: s.content, base: s.start}
	var err error
	switch s.id {
	case secCustom:
		var name string
		if name, err = r.name(); err == nil && name == "name" {
			err = nameSection(r)
		}
	case secType:
		m.types, err = typeSection(r)
	case secFunction:
		err = vector(r, 1, func() error {
			t, err := r.u32()
			m.funcTypes = append(m.funcTypes, t)
			return err
		})
	case secTable:
		err = vector(r, 3, func() error { return m.table(r, "", "") })
	case secImport:
		err = m.imports(r)
	case secMemory:
		err = vector(r, 2, func() error {
			l, err := limits(r)
			m.memories = append(m.memories, l)
			return err
		})
		m.hasMemory = m.hasMemory || len(m.memories) > 0
	case secTag:
		err = errors.New("exception handling is not enabled")
	case secGlobal:
		m.definedGlobals, err = globalSection(r, m.globals)
		m.globals += m.definedGlobals
	case secExport:
		err = exports(r, m.globals)
	case secStart:
		m.start, err = r.u32()
		m.hasStart = true
	case secElement:
		var n uint32
		n, m.decls.Elements, err = elementSection(r, m.globals)
		m.decls.ElemSegments = uint64(n)
	case secData:
		var n uint32
		n, err = dataSection(r, m.globals)
		m.decls.DataSegments = uint64(n)
	case secCode:
		return nil // rewritten, and so checked, by Instrument
	default:
		return nil
	}
	if err == nil && s.id != secCustom && r.left() != 0 {
		err = errors.New("trailing bytes")
	}
	m.v128 = m.v128 || r.v128 // types, imported and defined globals
	if err != nil {
		return fmt.Errorf("section %d at %#x: %w", s.id, s.start, err)
	}
	return nil
}

// exports reads the export section and refuses an export of a reserved
// name, or of a global at or past globals (after the rewrite, the flag or
// the count).
func exports(r *reader, globals uint32) error {
	n, err := r.count(3)
	if err != nil {
		return err
	}
	for range n {
		name, err := r.name()
		if err != nil {
			return err
		}
		if reserved(name) {
			return fmt.Errorf("export %q: %w", name, ErrReserved)
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		if kind == exportGlob {
			err = globalIndex(r, globals)
		} else {
			_, err = r.u32()
		}
		if err != nil {
			return fmt.Errorf("export %q: %w", name, err)
		}
	}
	return nil
}

// reserved reports whether name is one the host gives a module's exports.
func reserved(name string) bool {
	return name == abi.ExportInterrupt || name == abi.ExportStart || name == abi.ExportCallStack
}

// Instrument returns the module rewritten, as the function Instrument
// describes, with its memories capped when CapMemory was called. It reads
// and checks the code section as it rewrites it.
//
// # Errors
//
// It refuses a malformed function, an instruction it does not know, a
// function with too many locals (ErrLimit), a reference to a global the
// module does not have (ErrGlobalIndex), and a module without a memory.
func (m *Module) Instrument() ([]byte, error) {
	wasm := m.wasm
	out := make([]byte, 0, len(wasm)+len(wasm)/8+64)
	out = append(out, wasm[:headerBytes]...)
	flag := m.globals
	bts, extraTypes := m.blockTypes()
	wroteGlobals, wroteExports := false, false
	for _, s := range m.sections {
		if rank := order[s.id]; s.id != secCustom {
			if !wroteGlobals && rank > order[secGlobal] {
				out, wroteGlobals = m.globalSection(out, nil), true
			}
			if !wroteExports && rank > order[secExport] {
				out, wroteExports = m.exportSection(out, nil, flag), true
			}
		}
		var err error
		switch s.id {
		case secCustom:
			if !isDebug(s.content) {
				out = appendSection(out, s.id, s.content)
			}
		case secGlobal:
			out, wroteGlobals = m.globalSection(out, s.content), true
		case secExport:
			out, wroteExports = m.exportSection(out, s.content, flag), true
		case secStart: // exported instead
		case secMemory:
			out = m.memorySection(out, s.content)
		case secType:
			out = m.typeSection(out, s.content, extraTypes)
		case secCode:
			out, err = m.codeSection(out, s, flag, bts)
		default:
			out = appendSection(out, s.id, s.content)
		}
		if err != nil {
			return nil, err
		}
	}
	if !wroteGlobals {
		out = m.globalSection(out, nil)
	}
	if !wroteExports {
		out = m.exportSection(out, nil, flag)
	}
	if !m.hasMemory {
		return nil, errors.New("the module has no memory, which the interrupt needs (memory.grow 0 is how the guest leaves for Go)")
	}
	return out, nil
}

// isDebug reports whether a custom section's contents name a DWARF
// section.
func isDebug(content []byte) bool {
	r := &reader{b: content}
	name, err := r.name()
	return err == nil && strings.HasPrefix(name, ".debug_")
}

// appendSection appends a section with contents b.
func appendSection(out []byte, id byte, b []byte) []byte {
	out = appendU32(append(out, id), uint32(len(b)))
	return append(out, b...)
}

// The globals the rewrite adds after the module's own, by their offset
// from the first (the flag, at the index of the module's global count).
const (
	flagGlobal   = iota // the interrupt flag, exported as abi.ExportInterrupt
	countGlobal         // the check count (check, step)
	stackGlobal         // the call-stack count (stackIn), exported as abi.ExportCallStack
	addedGlobals        // how many
)

// zeroI32Global is a global section entry: a mutable i32 that starts at 0.
var zeroI32Global = []byte{0x7f, 0x01, opI32Const, 0x00, opEnd}

// globalSection appends the global section old (nil for none) with the
// globals of the rewrite added (flagGlobal...): mutable i32s that start
// at 0.
func (m *Module) globalSection(out, old []byte) []byte {
	b := appendU32(nil, m.definedGlobals+addedGlobals)
	if old != nil {
		r := &reader{b: old}
		_, _ = r.u32() // checked by scan
		b = append(b, old[r.pos:]...)
	}
	b = append(b, bytes.Repeat(zeroI32Global, addedGlobals)...)
	return appendSection(out, secGlobal, b)
}

// exportSection appends the export section old (nil for none) with the
// flag's export, the call-stack count's, and, when the module had a start
// section, its function's.
func (m *Module) exportSection(out, old []byte, flag uint32) []byte {
	var n uint32
	var rest []byte
	if old != nil {
		r := &reader{b: old}
		n, _ = r.u32() // checked by scan
		rest = old[r.pos:]
	}
	add := func(b []byte, name string, kind byte, idx uint32) []byte {
		b = append(appendU32(b, uint32(len(name))), name...)
		return appendU32(append(b, kind), idx)
	}
	extra := add(nil, abi.ExportInterrupt, exportGlob, flag+flagGlobal)
	extra = add(extra, abi.ExportCallStack, exportGlob, flag+stackGlobal)
	n += 2
	if m.hasStart {
		extra = add(extra, abi.ExportStart, exportFunc, m.start)
		n++
	}
	b := append(append(appendU32(nil, n), rest...), extra...)
	return appendSection(out, secExport, b)
}

// blockTypes returns, for each defined function, the block type of the
// block its body runs in (see body): its results, as a value type, the
// empty type, or the index of a type of no parameters and its results,
// which typeSection appends; and those types, in order.
func (m *Module) blockTypes() (bts [][]byte, extra [][]byte) {
	byResults := map[string]uint32{}
	for i := range m.funcTypes {
		ft := m.funcType(uint32(i))
		switch ft.results {
		case 0:
			bts = append(bts, []byte{blockEmpty})
		case 1:
			bts = append(bts, ft.resultTypes)
		default:
			idx, ok := byResults[string(ft.resultTypes)]
			if !ok {
				idx = uint32(len(m.types) + len(extra))
				byResults[string(ft.resultTypes)] = idx
				t := appendU32([]byte{0x60, 0x00}, uint32(ft.results))
				extra = append(extra, append(t, ft.resultTypes...))
			}
			bts = append(bts, appendS32(nil, int32(idx)))
		}
	}
	return bts, extra
}

// typeSection appends the type section old with extra, the types of
// blockTypes, added after the module's own, whose indices do not change.
func (m *Module) typeSection(out, old []byte, extra [][]byte) []byte {
	if len(extra) == 0 {
		return appendSection(out, secType, old)
	}
	r := &reader{b: old}
	n, _ := r.u32() // checked by scan
	b := appendU32(nil, n+uint32(len(extra)))
	b = append(b, old[r.pos:]...)
	for _, t := range extra {
		b = append(b, t...)
	}
	return appendSection(out, secType, b)
}

// funcType returns the type of the i-th defined function, or the empty
// type when the function section does not say (wazero refuses such a
// module anyway).
func (m *Module) funcType(i uint32) funcType {
	if int(i) < len(m.funcTypes) {
		return m.typeAt(m.funcTypes[i])
	}
	return funcType{}
}

// calleeType returns the type of function idx, imported or defined, or
// the empty type when the module does not say (wazero refuses it).
func (m *Module) calleeType(idx uint32) funcType {
	if int(idx) < len(m.importTypes) {
		return m.typeAt(m.importTypes[idx])
	}
	return m.funcType(idx - m.importedFuncs)
}

// typeAt returns type idx of the type section, or the empty type.
func (m *Module) typeAt(idx uint32) funcType {
	if int(idx) < len(m.types) {
		return m.types[idx]
	}
	return funcType{}
}

// codeSection appends the code section s with every body instrumented,
// each run in a block of its block type in bts (blockTypes).
func (m *Module) codeSection(out []byte, s section, flag uint32, bts [][]byte) ([]byte, error) {
	r := &reader{b: s.content, base: s.start}
	n, err := r.count(2)
	if err != nil {
		return nil, fmt.Errorf("code section at %#x: %w", s.start, err)
	}
	ins := newInserts(flag, m)
	b := appendU32(make([]byte, 0, len(s.content)+len(s.content)/8), n)
	var fn []byte
	var cost, loops, blockCost uint64 // the functions' compile costs, loops and squared blocks together
	for i := range n {
		idx := m.importedFuncs + i
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("function %d at %#x: size: %w", idx, r.offset(), err)
		}
		at := r.offset()
		code, err := r.bytes(uint64(size))
		if err != nil {
			return nil, fmt.Errorf("function %d at %#x: size %d: %w", idx, at, size, err)
		}
		var st bodyStats
		bt := []byte{blockEmpty}
		if int(i) < len(bts) {
			bt = bts[i]
		}
		if fn, st, err = body(fn[:0], &reader{b: code, base: at}, ins, fnEnv{m: m, ft: m.funcType(i), bt: bt}); err != nil {
			return nil, fmt.Errorf("function %d: %w", idx, err)
		}
		if cost += st.cost; cost > abi.MaxModuleCompileCost {
			return nil, fmt.Errorf("the module's functions would cost the compiler more than the limit of %d together (function %d reaches %d): %w",
				abi.MaxModuleCompileCost, idx, cost, ErrLimit)
		}
		if loops += st.loops; loops > abi.MaxModuleLoops {
			return nil, fmt.Errorf("the module has more than %d loops (function %d reaches %d): %w", abi.MaxModuleLoops, idx, loops, ErrLimit)
		}
		if blockCost += st.blocks * st.blocks; blockCost > abi.MaxModuleBlockCost {
			return nil, fmt.Errorf("the module's functions have too many blocks for the compiler together (the sum of their squares passes %d at function %d): %w",
				abi.MaxModuleBlockCost, idx, ErrLimit)
		}
		m.maxWeight = max(m.maxWeight, st.weight)
		b = append(appendU32(b, uint32(len(fn))), fn...)
	}
	if r.left() != 0 {
		return nil, fmt.Errorf("code section at %#x: trailing bytes", s.start)
	}
	return appendSection(out, secCode, b), nil
}
