package interrupt

import (
	"encoding/binary"
)

// mod builds a WebAssembly module by hand, section by section, so that a
// test can write what no assembler would: references to globals a module
// does not have, truncated numbers, sizes past the end.
type mod struct{ b []byte }

func newMod() *mod { return &mod{b: []byte("\x00asm\x01\x00\x00\x00")} }

// sec appends a section whose contents are the vector count followed by
// entries.
func (m *mod) sec(id byte, count int, entries ...[]byte) *mod {
	body := binary.AppendUvarint(nil, uint64(count))
	for _, e := range entries {
		body = append(body, e...)
	}
	return m.raw(id, body)
}

// raw appends a section with contents body as given.
func (m *mod) raw(id byte, body []byte) *mod {
	m.b = append(m.b, id)
	m.b = binary.AppendUvarint(m.b, uint64(len(body)))
	m.b = append(m.b, body...)
	return m
}

func name(s string) []byte { return append(binary.AppendUvarint(nil, uint64(len(s))), s...) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// fn is one code entry: size, no locals, then code (which must end with
// end).
func fn(code ...byte) []byte {
	body := append([]byte{0x00}, code...)
	return append(binary.AppendUvarint(nil, uint64(len(body))), body...)
}

// exp is one export entry.
func exp(n string, kind byte, idx byte) []byte { return cat(name(n), []byte{kind, idx}) }

// Types used by the generated modules: 0 is () -> (), 1 is () -> i32,
// 2 is (i32) -> (i32).
var types = [][]byte{{0x60, 0x00, 0x00}, {0x60, 0x00, 0x01, 0x7f}, {0x60, 0x01, 0x7f, 0x01, 0x7f}}

// memory is a memory section's entry: one page, no maximum.
var memory = []byte{0x00, 0x01}

// loopModule is a module of n functions of type 0, 1 or 2 (types[i]),
// with a memory and one mutable i32 global, exporting function i as
// "f<i>", and with the given bodies.
func loopModule(typeOf []byte, bodies ...[]byte) []byte {
	m := newMod().sec(1, len(types), types...)
	m.sec(3, len(typeOf), typeOf)
	m.sec(5, 1, memory)
	m.sec(6, 1, []byte{0x7f, 0x01, 0x41, 0x00, 0x0b})
	var exps [][]byte
	for i := range typeOf {
		exps = append(exps, exp("f"+string(rune('0'+i)), 0x00, byte(i)))
	}
	m.sec(7, len(exps), exps...)
	return m.sec(10, len(bodies), bodies...).b
}
