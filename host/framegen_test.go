package host

import (
	"bytes"
	"encoding/binary"
)

// Opcodes the generated recursions use.
const (
	wIf, wLoop, wEnd, wBrIf, wReturn, wCall = 0x04, 0x03, 0x0b, 0x0d, 0x0f, 0x10
	wDrop, wLocalGet, wLocalSet             = 0x1a, 0x20, 0x21
	wI32Load, wI64Load, wI64Store           = 0x28, 0x29, 0x37
	wI32Const, wI64Const, wI32Eqz, wI32Sub  = 0x41, 0x42, 0x45, 0x6b
	wI64Add, wSIMD, wV128Load, wV128Store   = 0x7c, 0xfd, 0x00, 0x0b
	wV128Or                                 = 0x50
	wI32, wI64, wV128, wVoid                = 0x7f, 0x7e, 0x7b, 0x40
)

// recursion is a plugin whose RPC "deep" reads a little-endian u32 n from
// its payload and calls rec(n): rec is function 5, of parameters
// (i32, params...) and results, with the locals and the code (without its
// end) given; function 6, leaf, takes and returns nothing and does
// nothing. rec's code returns when its first parameter is 0 and otherwise
// recurses with it less one, so that the recursion goes n calls deep.
type recursion struct {
	params, results []byte // value types after the i32 n, and of the results
	locals          []byte // a locals declaration: count, then (n, type) entries
	code            []byte
}

// module writes r's plugin, as modulegen_test.go's limitModule writes its
// own: by hand, so that a test can make any shape.
func (r recursion) module() []byte {
	uv := func(n int) []byte { return binary.AppendUvarint(nil, uint64(n)) }
	vec := func(b []byte) []byte { return append(uv(len(b)), b...) }
	name := func(s string) []byte { return vec([]byte(s)) }
	var w bytes.Buffer
	w.WriteString("\x00asm\x01\x00\x00\x00")
	section := func(id byte, count int, entries ...[]byte) {
		body := uv(count)
		for _, e := range entries {
			body = append(body, e...)
		}
		w.WriteByte(id)
		w.Write(uv(len(body)))
		w.Write(body)
	}
	fnType := func(params, results []byte) []byte {
		return append(append([]byte{0x60}, vec(params)...), vec(results)...)
	}
	section(1, 6,
		fnType([]byte{wI32, wI32, wI32, wI32}, []byte{wI32}), // 0: rpc_register
		fnType([]byte{wI32, wI32, wI32}, []byte{wI32}),       // 1: input_read
		fnType(nil, nil),                                     // 2: warden_abi_v1, leaf
		fnType(nil, []byte{wI32}),                            // 3: warden_init
		fnType([]byte{wI32, wI32}, []byte{wI32}),             // 4: warden_handle
		fnType(append([]byte{wI32}, r.params...), r.results)) // 5: rec
	section(2, 2, name("warden_v1"), name("rpc_register"), []byte{0x00, 0}, name("warden_v1"), name("input_read"), []byte{0x00, 1})
	section(3, 5, []byte{2, 3, 4, 5, 2})
	section(5, 1, []byte{0x00, 0x01})
	var exports []byte
	for i, e := range []string{"warden_abi_v1", "warden_init", "warden_handle"} {
		exports = append(append(exports, name(e)...), 0x00, byte(i+2))
	}
	section(7, 4, append(append(name("memory"), 0x02, 0x00), exports...))
	// handle: input_read(0, 0, 4); rec(load(0), zeros...), its results dropped.
	handle := []byte{0x00, wI32Const, 0, wI32Const, 0, wI32Const, 4, wCall, 1, wDrop, wI32Const, 0, wI32Load, 2, 0}
	handle = append(handle, zeros(r.params)...)
	handle = append(handle, wCall, 5)
	handle = append(handle, bytes.Repeat([]byte{wDrop}, len(r.results))...)
	handle = append(handle, wI32Const, 0, wEnd)
	initBody := []byte{0x00, wI32Const, 0xa0, 0x1f, wI32Const, 4, wI32Const, 1, wI32Const, 0, wCall, 0, wDrop, wI32Const, 0, wEnd}
	rec := r.locals
	if rec == nil {
		rec = []byte{0} // no locals
	}
	rec = append(append([]byte{}, rec...), wLocalGet, 0, wI32Eqz, wIf, wVoid)
	rec = append(append(rec, zeros(r.results)...), wReturn, wEnd)
	rec = append(append(rec, r.code...), wEnd)
	empty := []byte{0x00, wEnd}
	section(10, 5, vec(empty), vec(initBody), vec(handle), vec(rec), vec(empty))
	section(11, 1, append([]byte{0x00, wI32Const, 0xa0, 0x1f, wEnd}, name("deep")...)) // "deep" at 4000
	return w.Bytes()
}

// zeros is the code that pushes a zero of each of types.
func zeros(types []byte) []byte {
	var b []byte
	for _, t := range types {
		switch t {
		case wI32:
			b = append(b, wI32Const, 0)
		case wI64:
			b = append(b, wI64Const, 0)
		case wV128:
			b = append(b, wSIMD, 0x0c)
			b = append(b, make([]byte, 16)...)
		}
	}
	return b
}

// recurse is the code that calls rec with n less one and zeros for its
// other parameters, leaving its results.
func recurse(r recursion) []byte {
	b := []byte{wLocalGet, 0, wI32Const, 1, wI32Sub}
	return append(append(b, zeros(r.params)...), wCall, 5)
}

// load is the code that pushes the i64 (or v128) at address 8+off.
func load(op []byte, off int) []byte {
	b := append([]byte{wI32Const, 8}, op...)
	return binary.AppendUvarint(b, uint64(off))
}
