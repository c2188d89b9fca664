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
