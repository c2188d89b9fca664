package interrupt

import (
	"bytes"
	"fmt"

	"github.com/warden-rpc/warden/abi"
)

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
