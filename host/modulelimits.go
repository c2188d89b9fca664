package host

import (
	"errors"
	"fmt"

	"github.com/warden-rpc/warden/abi"
)

// tableDecl is one table a module defines or imports, as its binary
// declares it.
type tableDecl struct {
	// index is the table's index: imported tables come first.
	index uint32
	// module and name are set for an imported table.
	module, name string
	min, max     uint32
	hasMax       bool
}

// String names the table in an error: "table 0" or "imported table
// env.t (table 0)".
func (t tableDecl) String() string {
	if t.module != "" || t.name != "" {
		return fmt.Sprintf("imported table %s.%s (table %d)", t.module, t.name, t.index)
	}
	return fmt.Sprintf("table %d", t.index)
}

// moduleDecls is what a module declares that costs the host memory in
// every instance, whatever its linear memory.
type moduleDecls struct {
	// tables are the tables it imports or defines, in index order.
	tables []tableDecl
	// globals counts the globals it imports and defines.
	globals uint64
	// dataSegments and elemSegments count its segments; elements counts
	// the elements of all its element segments.
	dataSegments, elemSegments, elements uint64
}

// checkModuleLimits refuses a module that declares more than the host
// bounds, as wazero allocates them for each instance: tables that could
// hold more than abi.MaxTableElements elements, alone or together (a table
// that declares no maximum, a larger one, or tables whose maxima add up to
// more), or more than abi.MaxGlobals globals, abi.MaxDataSegments data
// segments, abi.MaxElementSegments element segments or
// abi.MaxSegmentElements elements in them. wazero caps memories but none of
// these, and enforces a declared maximum on table.grow, so a declared
// maximum within the limit bounds what a table can cost.
//
// # Errors
//
// The error names the table or the count, and the limit, or says where
// wasm is malformed.
func checkModuleLimits(wasm []byte) error {
	d, err := readModule(wasm)
	if err != nil {
		return fmt.Errorf("read module: %w", err)
	}
	if err := checkTables(d.tables); err != nil {
		return err
	}
	for _, c := range []struct {
		n, limit uint64
		what     string
	}{
		{d.globals, abi.MaxGlobals, "the module declares %d globals, more than the limit of %d (defined and imported together)"},
		{d.dataSegments, abi.MaxDataSegments, "the module declares %d data segments, more than the limit of %d"},
		{d.elemSegments, abi.MaxElementSegments, "the module declares %d element segments, more than the limit of %d"},
		{d.elements, abi.MaxSegmentElements, "the module's element segments hold %d elements together, more than the limit of %d"},
	} {
		if c.n > c.limit {
			return fmt.Errorf(c.what, c.n, c.limit)
		}
	}
	return nil
}

// checkTables refuses tables that could hold more than
// abi.MaxTableElements elements, alone or together.
func checkTables(tables []tableDecl) error {
	var total uint64
	for _, t := range tables {
		switch {
		case !t.hasMax:
			return fmt.Errorf("%s declares no maximum size; a plugin's tables must declare one of at most %d elements",
				t, abi.MaxTableElements)
		case t.max > abi.MaxTableElements:
			return fmt.Errorf("%s declares a maximum of %d elements, more than the limit of %d",
				t, t.max, abi.MaxTableElements)
		}
		total += uint64(t.max)
	}
	if total > abi.MaxTableElements {
		// wazero allows 2^27 tables in a module, each within the limit.
		return fmt.Errorf("%d tables declare a maximum of %d elements together, more than the limit of %d",
			len(tables), total, abi.MaxTableElements)
	}
	return nil
}

// Section ids and import kinds of the WebAssembly binary format.
const (
	sectionImport  = 2
	sectionTable   = 4
	sectionGlobal  = 6
	sectionElement = 9
	sectionData    = 11

	importFunc   = 0x00
	importTable  = 0x01
	importMemory = 0x02
	importGlobal = 0x03
	importTag    = 0x04
)

var (
	errTruncated = errors.New("truncated")
	errLEB       = errors.New("malformed LEB128 number")
)

// readModule returns what the module in wasm declares, in one pass over
// its sections. It reads the header and the import, table, global,
// element and data sections (of the last two, only the counts it needs),
// and checks every length against the bytes it has.
//
// # Errors
//
// It fails on a malformed or truncated module, or on a construct it does
// not know (which no plugin SDK emits).
func readModule(wasm []byte) (moduleDecls, error) {
	var d moduleDecls
	r := &wasmReader{b: wasm}
	if magic, err := r.bytes(8); err != nil || string(magic) != "\x00asm\x01\x00\x00\x00" {
		return d, errors.New("not a WebAssembly 1.0 module")
	}
	for r.len() > 0 {
		id, err := r.byte()
		if err != nil {
			return d, err
		}
		size, err := r.u32()
		if err != nil {
			return d, fmt.Errorf("section %d size: %w", id, err)
		}
		body, err := r.bytes(int(size))
		if err != nil {
			return d, fmt.Errorf("section %d: %w", id, err)
		}
		sr := &wasmReader{b: body}
		var n uint32
		switch id {
		case sectionImport:
			err = readImports(sr, &d)
		case sectionTable:
			err = readTables(sr, &d.tables)
		case sectionGlobal:
			n, err = sr.u32()
			d.globals += uint64(n)
		case sectionElement:
			err = readElements(sr, &d)
		case sectionData:
			n, err = sr.u32()
			d.dataSegments += uint64(n)
		}
		if err != nil {
			return d, fmt.Errorf("section %d: %w", id, err)
		}
	}
	return d, nil
}

// readImports adds the imported tables and globals of an import section to
// d.
func readImports(r *wasmReader, d *moduleDecls) error {
	tables := &d.tables
	n, err := r.u32()
	if err != nil {
		return fmt.Errorf("import count: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		mod, err1 := r.name()
		name, err2 := r.name()
		kind, err3 := r.byte()
		if err := errors.Join(err1, err2, err3); err != nil {
			return fmt.Errorf("import %d: %w", i, err)
		}
		switch kind {
		case importFunc:
			_, err = r.u32()
		case importTable:
			var t tableDecl
			if t, err = readTableType(r); err == nil {
				t.index, t.module, t.name = uint32(len(*tables)), mod, name
				*tables = append(*tables, t)
			}
		case importMemory:
			err = r.skipLimits()
		case importGlobal:
			d.globals++
			if err = r.skipValType(); err == nil {
				_, err = r.byte() // mutability
			}
		case importTag:
			if _, err = r.byte(); err == nil { // attribute
				_, err = r.u32()
			}
		default:
			err = fmt.Errorf("unknown kind %#x", kind)
		}
		if err != nil {
			return fmt.Errorf("import %d (%s.%s): %w", i, mod, name, err)
		}
	}
	return nil
}

// readTables appends the tables of a table section to tables.
func readTables(r *wasmReader, tables *[]tableDecl) error {
	n, err := r.u32()
	if err != nil {
		return fmt.Errorf("table count: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		t, err := readTableType(r)
		if err != nil {
			return fmt.Errorf("table %d: %w", len(*tables), err)
		}
		t.index = uint32(len(*tables))
		*tables = append(*tables, t)
	}
	return nil
}

// readElements counts the segments of an element section, and their
// elements, in d. A segment's flags say whether it names a table, has an
// offset, and lists function indexes or constant expressions.
func readElements(r *wasmReader, d *moduleDecls) error {
	n, err := r.u32()
	if err != nil {
		return fmt.Errorf("element segment count: %w", err)
	}
	d.elemSegments += uint64(n)
	for i := uint32(0); i < n; i++ {
		if err := readElementSegment(r, d); err != nil {
			return fmt.Errorf("element segment %d: %w", i, err)
		}
	}
	return nil
}

// readElementSegment reads one element segment and adds its elements to
// d.elements.
func readElementSegment(r *wasmReader, d *moduleDecls) error {
	flags, err := r.u32()
	if err != nil {
		return err
	}
	if flags > 7 {
		return fmt.Errorf("unknown flags %#x", flags)
	}
	if flags&3 == 2 { // an explicit table index
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	if flags&1 == 0 { // active: an offset
		if err := r.skipConstExpr(); err != nil {
			return err
		}
	}
	if flags&3 != 0 { // an element kind or reference type
		if flags&4 == 0 {
			_, err = r.byte()
		} else {
			err = r.skipValType()
		}
		if err != nil {
			return err
		}
	}
	count, err := r.u32()
	if err != nil {
		return err
	}
	d.elements += uint64(count)
	for j := uint32(0); j < count; j++ {
		if flags&4 == 0 {
			_, err = r.u32()
		} else {
			err = r.skipConstExpr()
		}
		if err != nil {
			return fmt.Errorf("element %d: %w", j, err)
		}
	}
	return nil
}

// readTableType reads a table type: an optional 0x40 0x00 prefix (a table
// with an initializer), a reference type, limits, and the initializer.
func readTableType(r *wasmReader) (tableDecl, error) {
	var t tableDecl
	init := r.peek() == 0x40
	if init {
		if b, err := r.bytes(2); err != nil || b[1] != 0x00 {
			return t, errors.New("malformed table initializer prefix")
		}
	}
	if err := r.skipValType(); err != nil {
		return t, err
	}
	flag, err := r.byte()
	if err != nil {
		return t, err
	}
	if flag > 0x03 { // 0x02 and 0x03 are shared, which the runtime refuses
		return t, fmt.Errorf("unknown table limits flag %#x", flag)
	}
	if t.min, err = r.u32(); err != nil {
		return t, fmt.Errorf("table minimum: %w", err)
	}
	if t.hasMax = flag&1 != 0; t.hasMax {
		if t.max, err = r.u32(); err != nil {
			return t, fmt.Errorf("table maximum: %w", err)
		}
	}
	if init {
		err = r.skipConstExpr()
	}
	return t, err
}

// wasmReader reads a WebAssembly binary; every read checks its bounds.
type wasmReader struct {
	b []byte
}

func (r *wasmReader) len() int { return len(r.b) }

// peek returns the next byte without reading it, or 0 at the end.
func (r *wasmReader) peek() byte {
	if len(r.b) == 0 {
		return 0
	}
	return r.b[0]
}

func (r *wasmReader) byte() (byte, error) {
	if len(r.b) == 0 {
		return 0, errTruncated
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *wasmReader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.b) {
		return nil, errTruncated
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out, nil
}

// name reads a length-prefixed name.
func (r *wasmReader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(int(n))
	return string(b), err
}

// leb reads an unsigned LEB128 number of at most bits bits.
func (r *wasmReader) leb(bits uint) (uint64, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift >= bits || (bits-shift < 7 && uint64(c&0x7f)>>(bits-shift) != 0) {
			return 0, errLEB
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

func (r *wasmReader) u32() (uint32, error) {
	v, err := r.leb(32)
	return uint32(v), err
}

// skipSigned skips a signed LEB128 number of at most bits bits; the
// callers only need to get past it.
func (r *wasmReader) skipSigned(bits uint) error {
	for shift := uint(0); ; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if shift >= bits {
			return errLEB
		}
		if c&0x80 == 0 {
			return nil
		}
	}
}

// skipValType skips a value type: one byte, or a reference type prefix
// (0x63, 0x64) and its heap type.
func (r *wasmReader) skipValType() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	if c == 0x63 || c == 0x64 {
		return r.skipSigned(33)
	}
	return nil
}

// skipLimits skips a memory's limits, 32- or 64-bit, shared or not.
func (r *wasmReader) skipLimits() error {
	flag, err := r.byte()
	if err != nil {
		return err
	}
	if flag > 0x07 {
		return fmt.Errorf("unknown limits flag %#x", flag)
	}
	bits := uint(32)
	if flag&0x04 != 0 {
		bits = 64
	}
	if _, err := r.leb(bits); err != nil {
		return err
	}
	if flag&1 != 0 {
		_, err = r.leb(bits)
	}
	return err
}

// skipConstExpr skips a constant expression up to its end opcode. It knows
// the constant instructions an initializer or an offset may use.
func (r *wasmReader) skipConstExpr() error {
	for {
		op, err := r.byte()
		if err != nil {
			return err
		}
		switch op {
		case 0x0b: // end
			return nil
		case 0x41: // i32.const
			err = r.skipSigned(32)
		case 0x42: // i64.const
			err = r.skipSigned(64)
		case 0x43: // f32.const
			_, err = r.bytes(4)
		case 0x44: // f64.const
			_, err = r.bytes(8)
		case 0x23, 0xd2: // global.get, ref.func
			_, err = r.u32()
		case 0xd0: // ref.null
			err = r.skipSigned(33)
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended constant arithmetic
		default:
			return fmt.Errorf("unsupported instruction %#x in a constant expression", op)
		}
		if err != nil {
			return err
		}
	}
}
