package host

import (
	"bytes"
	"encoding/binary"
)

// declCounts are what a generated module declares.
type declCounts struct {
	globals, dataSegments, elemSegments, elements int
}

// limitModule returns a plugin, registering the RPC rpc, that defines
// c.globals mutable globals, c.dataSegments active data segments of one
// byte, and c.elemSegments active element segments holding c.elements
// functions together, in a table just large enough. It writes the
// WebAssembly binary by hand, so that a test can make any count.
func limitModule(rpc string, c declCounts) []byte {
	perSeg := 0
	if c.elemSegments > 0 {
		perSeg = (c.elements + c.elemSegments - 1) / c.elemSegments
	}
	var w bytes.Buffer
	w.WriteString("\x00asm\x01\x00\x00\x00")
	section := func(id byte, count int, entries []byte) {
		body := append(binary.AppendUvarint(nil, uint64(count)), entries...)
		w.WriteByte(id)
		w.Write(binary.AppendUvarint(nil, uint64(len(body))))
		w.Write(body)
	}
	name := func(s string) []byte { return append(binary.AppendUvarint(nil, uint64(len(s))), s...) }
	i32 := "\x7f"
	section(1, 4, []byte("\x60\x00\x00"+"\x60\x00\x01"+i32+"\x60\x02"+i32+i32+"\x01"+i32+"\x60\x04"+i32+i32+i32+i32+"\x01"+i32))
	section(2, 1, append(append(name("warden_v1"), name("rpc_register")...), 0x00, 3))
	section(3, 3, []byte{0, 1, 2})
	tbl := binary.AppendUvarint([]byte{0x70, 0x01}, uint64(max(perSeg, 1)))
	section(4, 1, binary.AppendUvarint(tbl, uint64(max(perSeg, 1))))
	section(5, 1, []byte{0x00, 0x01})
	section(6, c.globals, bytes.Repeat([]byte{0x7f, 0x01, 0x41, 0x00, 0x0b}, c.globals))
	var exports []byte
	for i, e := range []string{"warden_abi_v1", "warden_init", "warden_handle"} {
		exports = append(append(exports, name(e)...), 0x00, byte(i+1))
	}
	section(7, 4, append(append(name("memory"), 0x02, 0x00), exports...))
	var elems []byte
	for s, left := 0, c.elements; s < c.elemSegments; s++ {
		n := min(perSeg, left)
		left -= n
		elems = binary.AppendUvarint(append(elems, 0x00, 0x41, 0x00, 0x0b), uint64(n))
		elems = append(elems, bytes.Repeat([]byte{1}, n)...)
	}
	section(9, c.elemSegments, elems)
	// warden_init calls rpc_register(0, len(rpc), 1, 0): the RPC's name is
	// the last data segment, at address 0; the others write at 1024.
	initBody := []byte{0x00, 0x41, 0x00, 0x41, byte(len(rpc)), 0x41, 0x01, 0x41, 0x00, 0x10, 0x00, 0x0b}
	code := append([]byte{2, 0x00, 0x0b}, byte(len(initBody)))
	code = append(append(code, initBody...), 4, 0x00, 0x41, 0x00, 0x0b)
	section(10, 3, code)
	data := bytes.Repeat([]byte{0x00, 0x41, 0x80, 0x08, 0x0b, 1, 'x'}, max(c.dataSegments-1, 0))
	data = append(append(data, 0x00, 0x41, 0x00, 0x0b), name(rpc)...)
	section(11, max(c.dataSegments, 1), data)
	return w.Bytes()
}
