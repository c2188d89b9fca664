package host

import (
	"errors"
	"fmt"
)

// sectionMemory is the id of the memory section.
const sectionMemory = 5

// capMemory returns wasm with the maximum of each memory it defines set to
// at most pages, so that wazero, which takes the smaller of a memory's
// declared maximum and the runtime's cap, holds this plugin to its
// manifest's memory_mib. Every other byte is kept.
//
// # Errors
//
// It fails when a memory's initial size is over pages, when a memory is
// shared or 64-bit, or when wasm is malformed.
func capMemory(wasm []byte, pages uint32) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:8]) != "\x00asm\x01\x00\x00\x00" {
		return nil, errors.New("not a WebAssembly 1.0 module")
	}
	out := append(make([]byte, 0, len(wasm)+8), wasm[:8]...)
	r := &wasmReader{b: wasm[8:]}
	for r.len() > 0 {
		start := r.b
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("section %d size: %w", id, err)
		}
		body, err := r.bytes(int(size))
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		if id != sectionMemory {
			out = append(out, start[:len(start)-r.len()]...)
			continue
		}
		capped, err := capMemories(body, pages)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
		out = appendLEB(out, uint32(len(capped)))
		out = append(out, capped...)
	}
	return out, nil
}

// capMemories rewrites a memory section's body with every maximum at most
// pages.
func capMemories(body []byte, pages uint32) ([]byte, error) {
	r := &wasmReader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := appendLEB(nil, n)
	for i := range n {
		flag, err := r.byte()
		if err != nil {
			return nil, err
		}
		if flag&^1 != 0 {
			return nil, fmt.Errorf("memory %d is shared or 64-bit (limits flag %#x)", i, flag)
		}
		lo, err := r.u32()
		if err != nil {
			return nil, err
		}
		hi := pages
		if flag&1 != 0 {
			declared, err := r.u32()
			if err != nil {
				return nil, err
			}
			hi = min(hi, declared)
		}
		if lo > pages {
			return nil, fmt.Errorf("memory %d starts at %d pages (%d MiB), over %d MiB", i, lo, lo/pagesPerMiB, pages/pagesPerMiB)
		}
		out = append(out, 1)
		out = appendLEB(out, lo)
		out = appendLEB(out, hi)
	}
	if r.len() != 0 {
		return nil, errors.New("memory section: trailing bytes")
	}
	return out, nil
}

// appendLEB appends v as unsigned LEB128.
func appendLEB(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}
