// Command tablemax gives every table that a WebAssembly module defines
// without a maximum size a maximum equal to its minimum, in place:
//
//	go run github.com/warden-rpc/warden/sdk/go/cmd/tablemax plugin.wasm
//
// Warden refuses a plugin whose tables could grow without bound (see
// MaxTableElements in abi/ABI.md). The Go linker declares its function
// table with no maximum and has no flag to set one; a Go program never
// grows that table, so its minimum is also its maximum. build-plugin.sh
// runs this after go build. Tables that declare a maximum, and modules
// without a table section, are left as they are.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tablemax FILE.wasm")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "tablemax:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	in, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := boundTables(in)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}

var errTruncated = errors.New("truncated module")

// boundTables returns wasm with its table section rewritten so that every
// table declares a maximum.
func boundTables(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:8]) != "\x00asm\x01\x00\x00\x00" {
		return nil, errors.New("not a WebAssembly 1.0 module")
	}
	out := append([]byte{}, wasm[:8]...)
	for p := 8; p < len(wasm); {
		id := wasm[p]
		size, n, err := uleb(wasm[p+1:])
		if err != nil {
			return nil, err
		}
		start := p + 1 + n
		end := start + int(size)
		if end > len(wasm) || end < start {
			return nil, errTruncated
		}
		if id != 4 { // not the table section: copied as it is
			out = append(out, wasm[p:end]...)
			p = end
			continue
		}
		body, err := boundTableSection(wasm[start:end])
		if err != nil {
			return nil, fmt.Errorf("table section: %w", err)
		}
		out = append(out, id)
		out = appendULEB(out, uint64(len(body)))
		out = append(out, body...)
		p = end
	}
	return out, nil
}

// boundTableSection rewrites the limits of each table without a maximum
// to min == max. It knows the plain table type the Go linker writes:
// a reference type byte, then limits.
func boundTableSection(b []byte) ([]byte, error) {
	count, n, err := uleb(b)
	if err != nil {
		return nil, err
	}
	out := append([]byte{}, b[:n]...)
	b = b[n:]
	for range count {
		if len(b) < 2 {
			return nil, errTruncated
		}
		reftype, flag := b[0], b[1]
		if reftype != 0x70 && reftype != 0x6f {
			return nil, fmt.Errorf("table type %#x not supported", reftype)
		}
		min, n, err := uleb(b[2:])
		if err != nil {
			return nil, err
		}
		rest := b[2+n:]
		switch flag {
		case 0x00:
			out = append(out, reftype, 0x01)
			out = appendULEB(out, min)
			out = appendULEB(out, min)
		case 0x01:
			_, m, err := uleb(rest) // the maximum, kept
			if err != nil {
				return nil, err
			}
			out = append(out, b[:2+n+m]...)
			rest = rest[m:]
		default:
			return nil, fmt.Errorf("table limits flag %#x not supported", flag)
		}
		b = rest
	}
	if len(b) != 0 {
		return nil, errors.New("trailing bytes after the tables")
	}
	return out, nil
}

// uleb decodes an unsigned LEB128 number of at most 32 bits.
func uleb(b []byte) (v uint64, n int, err error) {
	for shift := 0; shift < 35; shift += 7 {
		if n >= len(b) {
			return 0, 0, errTruncated
		}
		c := b[n]
		n++
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v > 1<<32-1 {
				return 0, 0, errors.New("number too large")
			}
			return v, n, nil
		}
	}
	return 0, 0, errors.New("number too long")
}

func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
