package interrupt

import (
	"fmt"
)

// constExpr reads a constant expression, up to and including its end, and
// refuses any instruction but the constants CoreFeaturesV2 allows there,
// and a global.get of a global at or past globals.
func constExpr(r *reader, globals uint32) error {
	for {
		op, err := r.byte()
		if err != nil {
			return err
		}
		var imm immediate
		switch op {
		case opEnd:
			return nil
		case 0x41, 0x42, 0x43, 0x44, opGlobalGet, opRefNull, opRefFunc:
			imm = opcodes[op]
		case prefixSIMD:
			sub, err := r.u32()
			if err != nil {
				return err
			}
			if sub != 0x0c { // v128.const
				return fmt.Errorf("opcode 0xfd %d is not allowed in a constant expression", sub)
			}
			imm = immV128
		default:
			return fmt.Errorf("opcode %#x is not allowed in a constant expression", op)
		}
		if err := immediates(r, imm, globals); err != nil {
			return err
		}
	}
}

// imports reads the import section into m: how many functions and globals
// it imports, the tables it imports and whether it imports a memory; it
// refuses an import of a reserved name.
func (m *Module) imports(r *reader) error {
	n, err := r.count(4)
	if err != nil {
		return err
	}
	for range n {
		mod, err := r.name()
		if err != nil {
			return err
		}
		name, err := r.name()
		if err != nil {
			return err
		}
		if reserved(name) {
			return fmt.Errorf("import %s.%s: %w", mod, name, ErrReserved)
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		switch kind {
		case 0x00: // func: type index
			m.importedFuncs++
			var t uint32
			t, err = r.u32()
			m.importTypes = append(m.importTypes, t)
		case 0x01: // table: reftype limits
			err = m.table(r, mod, name)
		case 0x02: // memory: limits
			m.hasMemory = true
			_, err = limits(r)
		case 0x03: // global: valtype mut
			m.globals++
			if err = valType(r); err == nil {
				_, err = r.byte()
			}
		default:
			err = fmt.Errorf("import %s.%s: kind %#x: not one of this runtime's", mod, name, kind)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// limit is a table's or a memory's limits, as declared.
type limit struct {
	flags    byte
	min, max uint32
}

// limits reads a table's or a memory's limits; flags 2 and 3 are shared
// memories, which wazero refuses without threads.
func limits(r *reader) (limit, error) {
	var l limit
	var err error
	if l.flags, err = r.byte(); err != nil {
		return l, err
	}
	if l.flags > 3 {
		return l, fmt.Errorf("limits flags %#x: not one of this runtime's", l.flags)
	}
	if l.min, err = r.u32(); err != nil {
		return l, err
	}
	if l.flags&1 != 0 {
		l.max, err = r.u32()
	}
	return l, err
}

// globalSection reads the global section and returns its count, checking
// the initial values.
func globalSection(r *reader, globals uint32) (uint32, error) {
	n, err := r.count(4)
	if err != nil {
		return 0, err
	}
	for i := range n {
		if err := valType(r); err != nil {
			return 0, fmt.Errorf("global %d: %w", i, err)
		}
		if _, err := r.byte(); err != nil {
			return 0, err
		}
		if err := constExpr(r, globals+i); err != nil { // the globals before it
			return 0, fmt.Errorf("global %d: %w", i, err)
		}
	}
	return n, nil
}

// elementSection checks every constant expression of the element section,
// offsets and element expressions, and returns how many segments it has
// and how many elements they hold together.
func elementSection(r *reader, globals uint32) (segments uint32, elements uint64, err error) {
	n, err := r.count(2)
	if err != nil {
		return 0, 0, err
	}
	for i := range n {
		count, err := elementSegment(r, globals)
		if err != nil {
			return 0, 0, fmt.Errorf("element segment %d: %w", i, err)
		}
		elements += uint64(count)
	}
	return n, elements, nil
}

// elementSegment reads one element segment, in any of its eight forms:
// bit 0 passive or declarative, bit 1 an explicit table (when active) or a
// kind, bit 2 expressions instead of function indices; it returns how many
// elements the segment holds.
func elementSegment(r *reader, globals uint32) (uint32, error) {
	flags, err := r.u32()
	if err != nil {
		return 0, err
	}
	if flags > 7 {
		return 0, fmt.Errorf("flags %d: unknown", flags)
	}
	if flags&3 == 2 {
		if _, err := r.u32(); err != nil { // table index
			return 0, err
		}
	}
	if flags&1 == 0 {
		if err := constExpr(r, globals); err != nil { // offset
			return 0, err
		}
	}
	if flags&3 != 0 {
		if _, err := r.byte(); err != nil { // elemkind or reftype
			return 0, err
		}
	}
	count, err := r.count(1)
	if err != nil {
		return 0, err
	}
	for range count {
		if flags&4 == 0 {
			_, err = r.u32()
		} else {
			err = constExpr(r, globals)
		}
		if err != nil {
			return 0, err
		}
	}
	return count, nil
}

// dataSection checks the offsets of the data section's active segments and
// returns how many segments it has.
func dataSection(r *reader, globals uint32) (uint32, error) {
	n, err := r.count(2)
	if err != nil {
		return 0, err
	}
	for i := range n {
		flags, err := r.u32()
		if err != nil {
			return 0, err
		}
		switch flags {
		case 2: // memory index, then as 0
			if _, err = r.u32(); err != nil {
				return 0, err
			}
			fallthrough
		case 0:
			err = constExpr(r, globals)
		case 1:
		default:
			err = fmt.Errorf("flags %d: unknown", flags)
		}
		if err != nil {
			return 0, fmt.Errorf("data segment %d: %w", i, err)
		}
		size, err := r.u32()
		if err != nil {
			return 0, err
		}
		if _, err := r.bytes(uint64(size)); err != nil {
			return 0, fmt.Errorf("data segment %d: %w", i, err)
		}
	}
	return n, nil
}
