package interrupt

import (
	"errors"
	"fmt"

	"github.com/warden-rpc/warden/abi"
)

// Read splits wasm into its sections and checks every section but the
// code, in one pass: what Instrument depends on, and the counts wazero
// would size its slices by. It records what the module declares (Decls),
// so that a host can refuse the module on its counts before the rewrite
// and before compiling it: Read and Instrument are the one reader of the
// module's bytes (see RATIONALE.md, "One reader of the module").
//
// wasm is not modified, and must not be while the Module is used.
//
// # Errors
//
// It refuses what Instrument refuses, but for the code section: a
// malformed module, a reserved import or export, or a reference to a
// global the module does not have.
func Read(wasm []byte) (*Module, error) {
	if len(wasm) < headerBytes || string(wasm[:4]) != "\x00asm" || string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, errors.New("not a WebAssembly 1.0 binary module")
	}
	return scan(wasm)
}

// Table is a table a module imports or defines, as its binary declares it.
type Table struct {
	// Index is the table's index: imported tables come first.
	Index uint32
	// Module and Name are set for an imported table.
	Module, Name string
	// Min is the table's initial size and, when HasMax, Max its maximum,
	// in elements.
	Min, Max uint32
	HasMax   bool
}

// Decls is what a module declares that costs a runtime memory in every
// instance, whatever its linear memory: wazero allocates tables, globals
// and segments as declared.
type Decls struct {
	// Tables are the tables it imports or defines, in index order.
	Tables []Table
	// Globals counts the globals it imports and defines (not the two
	// Instrument adds).
	Globals uint64
	// DataSegments and ElemSegments count its segments; Elements counts
	// the elements of all its element segments.
	DataSegments, ElemSegments, Elements uint64
}

// Decls returns what the module declares, as Read found it.
func (m *Module) Decls() Decls { return m.decls }

// table reads a table type, a reference type and limits, and records the
// table, imported from mod.name when those are not empty.
func (m *Module) table(r *reader, mod, name string) error {
	if err := valType(r); err != nil {
		return err
	}
	l, err := limits(r)
	if err != nil {
		return err
	}
	m.decls.Tables = append(m.decls.Tables, Table{Index: uint32(len(m.decls.Tables)), Module: mod, Name: name,
		Min: l.min, Max: l.max, HasMax: l.flags&1 != 0})
	return nil
}

// CapMemory makes Instrument write every memory the module defines with a
// maximum of at most pages (64 KiB each): wazero takes the smaller of a
// memory's declared maximum and its runtime's cap, so this holds one module
// to less than the runtime allows. Imported memories are left as they are.
//
// # Errors
//
// It refuses a memory that is shared (or 64-bit) or that starts over
// pages, naming the memory by its index in the memory section.
func (m *Module) CapMemory(pages uint32) error {
	for i, l := range m.memories {
		if l.flags&^1 != 0 {
			return fmt.Errorf("memory %d is shared or 64-bit (limits flag %#x)", i, l.flags)
		}
		if l.min > pages {
			return fmt.Errorf("memory %d starts at %d pages (%d MiB), over %d MiB", i, l.min, l.min/abi.PagesPerMiB, pages/abi.PagesPerMiB)
		}
	}
	m.memCap, m.capped = pages, true
	return nil
}

// memorySection appends the memory section content, with every maximum at
// most the cap when CapMemory set one.
func (m *Module) memorySection(out, content []byte) []byte {
	if !m.capped {
		return appendSection(out, secMemory, content)
	}
	b := appendU32(nil, uint32(len(m.memories)))
	for _, l := range m.memories {
		hi := m.memCap
		if l.flags&1 != 0 {
			hi = min(hi, l.max)
		}
		b = appendU32(appendU32(append(b, 1), l.min), hi)
	}
	return appendSection(out, secMemory, b)
}
