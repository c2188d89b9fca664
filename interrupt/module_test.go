package interrupt

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

const hdr = "\x00asm\x01\x00\x00\x00"

// TestRead_malformed feeds Read what either reader of the module refused
// before there was one (the rewriter's and the host's module limit
// check): truncated and over-long LEB128 numbers, counts past the bytes
// that follow them, sections longer than the module. Each must be refused,
// for the reason given (errors.Is), where the text says.
func TestRead_malformed(t *testing.T) {
	tests := []struct {
		name, wasm string
		want       error
		text       string
	}{
		{"ErrTruncatedHeader", "\x00asm\x01\x00", nil, "not a WebAssembly 1.0"},
		{"ErrBadVersion", "\x00asm\x02\x00\x00\x00", nil, "not a WebAssembly 1.0"},
		{"ErrTruncatedSectionSize", hdr + "\x01\x80\x80", errTruncated, "section 1 at 0x8: size"},
		{"ErrSectionSizeSixBytes", hdr + "\x04\x80\x80\x80\x80\x80\x01", errLEB, "section 4 at 0x8: size"},
		{"ErrSectionSizeOverU32", hdr + "\x04\xff\xff\xff\xff\x1f", errLEB, "section 4 at 0x8: size"},
		{"ErrSectionPastEnd", hdr + "\x04\x7f\x01", errTruncated, "section 4 at 0x8: size 127"},
		{"ErrSectionPastEndByOne", hdr + "\x01\x02\x00", errTruncated, "size 2"},
		{"ErrCountTruncated", hdr + "\x03\x01\x80", errTruncated, "section 3 at 0xa"},
		{"ErrCountSixBytes", hdr + "\x03\x06\x80\x80\x80\x80\x80\x00", errLEB, "section 3"},
		{"ErrCountPastBytes", hdr + "\x03\x02\x05\x00", ErrLimit, "count 5"},
		{"ErrHugeTypeCount", hdr + "\x01\x05\xff\xff\xff\xff\x0f", ErrLimit, "count 4294967295"},
		{"ErrHugeImportCount", hdr + "\x02\x05\xff\xff\xff\xff\x0f", ErrLimit, "section 2"},
		{"ErrHugeGlobalCount", hdr + "\x06\x05\xff\xff\xff\xff\x0f", ErrLimit, "section 6"},
		{"ErrHugeElementCount", hdr + "\x09\x04\x01\x01\x00\x05", ErrLimit, "element segment 0"},
		{"ErrHugeDataCount", hdr + "\x0b\x05\xff\xff\xff\xff\x0f", ErrLimit, "section 11"},
		{"ErrTableMinOverU32", hdr + "\x04\x08\x01\x70\x00\xff\xff\xff\xff\x7f", errLEB, "section 4"},
		{"ErrTableMaxTruncated", hdr + "\x04\x05\x01\x70\x01\x01\x80", errTruncated, "section 4"},
		{"ErrNameTruncated", hdr + "\x00\x03\x05ab", errTruncated, "section 0"},
		{"ErrDataBytesPastEnd", hdr + "\x0b\x04\x01\x01\x09x", errTruncated, "data segment 0"},
		{"ErrTrailingBytes", hdr + "\x03\x03\x01\x00\x00", nil, "trailing bytes"},
		{"ErrElementFlags", hdr + "\x09\x03\x01\x08\x00", nil, "flags 8: unknown"},
		{"ErrElementOffsetTruncated", hdr + "\x09\x04\x01\x00\x41\x00", errTruncated, "element segment 0"},
		{"ErrUnknownImportKind", hdr + "\x02\x06\x01\x01m\x01f\x09", nil, "kind 0x9: not one of this runtime's"},
		{"ErrTableLimitsFlags", hdr + "\x04\x04\x01\x70\x04\x01", nil, "limits flags 0x4"},
		// The host's reader knew table initializers (0x40 0x00 prefix) and
		// refused an unknown instruction in them; wazero knows neither, and
		// the rewriter refused the prefix before, as Read does.
		{"ErrTableInitializer", hdr + "\x04\x0a\x01\x40\x00\x70\x01\x01\x02\xd0\x70\x0b", nil, "value type 0x40"},
		{"ErrConstExprOp", hdr + "\x06\x06\x01\x7f\x00\x01\x0b\x0b", nil, "opcode 0x1 is not allowed in a constant expression"},
		{"ErrOutOfOrder", hdr + "\x03\x01\x00\x01\x01\x00", nil, "unknown, repeated or out of order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Read([]byte(tt.wasm))
			if err == nil {
				t.Fatalf("Read() = %+v, want an error", m.Decls())
			}
			if tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Read() error %q, want %v containing %q", err, tt.want, tt.text)
			}
			if _, err := Instrument([]byte(tt.wasm)); err == nil {
				t.Fatal("Instrument() accepted what Read refused")
			}
		})
	}
}

// TestReader_uleb reads 32-bit LEB128 numbers at their edges: five bytes
// at most, and no bits past 32 in the fifth.
func TestReader_uleb(t *testing.T) {
	tests := []struct {
		name string
		b    string
		want uint32
		err  error
	}{
		{"OKZero", "\x00", 0, nil},
		{"OKPadded", "\x80\x80\x80\x80\x00", 0, nil},
		{"OKMax", "\xff\xff\xff\xff\x0f", 1<<32 - 1, nil},
		{"ErrSixBytes", "\x80\x80\x80\x80\x80\x00", 0, errLEB},
		{"ErrBitsPast32", "\xff\xff\xff\xff\x1f", 0, errLEB},
		{"ErrTruncated", "\xff\xff", 0, errTruncated},
		{"ErrEmpty", "", 0, errTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &reader{b: []byte(tt.b)}
			got, err := r.u32()
			if !errors.Is(err, tt.err) || tt.err == nil && (got != tt.want || r.left() != 0) {
				t.Fatalf("u32(% x) = %d, %v (%d left), want %d, %v", tt.b, got, err, r.left(), tt.want, tt.err)
			}
		})
	}
}

// TestRead_tables checks the tables Read records, imported ones first.
func TestRead_tables(t *testing.T) {
	tests := []struct {
		name, wasm string
		want       []Table
	}{
		{"NoTables", hdr, nil},
		{"MinMax", hdr + "\x04\x05\x01\x70\x01\x03\x07", []Table{{Min: 3, Max: 7, HasMax: true}}},
		{"NoMax", hdr + "\x04\x05\x01\x70\x00\x80\x01", []Table{{Min: 128}}},
		{"ImportThenDefined", hdr + "\x02\x0f\x02\x01m\x01f\x00\x00\x01m\x01t\x01\x70\x00\x02" + "\x04\x05\x01\x70\x01\x01\x04",
			[]Table{{Module: "m", Name: "t", Min: 2}, {Index: 1, Min: 1, Max: 4, HasMax: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Read([]byte(tt.wasm))
			if err != nil {
				t.Fatal(err)
			}
			got := m.Decls().Tables
			if len(got) != len(tt.want) {
				t.Fatalf("tables %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("table %d = %#v, want %#v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestRead_segments checks the globals and segments Read counts.
func TestRead_segments(t *testing.T) {
	tests := []struct {
		name, wasm string
		want       Decls
	}{
		{"ImportedAndDefinedGlobals", hdr + "\x02\x0f\x02\x01m\x01g\x03\x7f\x00\x01m\x01h\x03\x7e\x01" +
			"\x06\x0e\x02\x7f\x01\x41\x00\x0b\x7d\x00\x43\x00\x00\x00\x00\x0b",
			Decls{Globals: 4}},
		{"DataSegments", hdr + "\x0b\x07\x02\x01\x01x\x01\x01y", Decls{DataSegments: 2}},
		// Flags 0 (active, function indexes), 1 (passive), 2 (explicit
		// table), 3 (declarative), 4 to 7 (the same with expressions).
		{"ElementSegments", hdr + "\x09\x35\x08" +
			"\x00\x41\x00\x0b\x02\x00\x01" +
			"\x01\x00\x01\x00" +
			"\x02\x00\x41\x00\x0b\x00\x01\x00" +
			"\x03\x00\x00" +
			"\x04\x41\x00\x0b\x01\xd2\x00\x0b" +
			"\x05\x70\x02\xd0\x70\x0b\xd2\x01\x0b" +
			"\x06\x00\x41\x00\x0b\x70\x00" +
			"\x07\x70\x01\xd2\x00\x0b",
			Decls{ElemSegments: 8, Elements: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Read([]byte(tt.wasm))
			if err != nil {
				t.Fatal(err)
			}
			got := m.Decls()
			if got.Globals != tt.want.Globals || got.DataSegments != tt.want.DataSegments ||
				got.ElemSegments != tt.want.ElemSegments || got.Elements != tt.want.Elements {
				t.Fatalf("Decls() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// memoryModule is a module that defines and exports ("memory") one memory
// of lo pages, at most hi pages when hasMax.
func memoryModule(lo, hi byte, hasMax bool) []byte {
	limits := []byte{0, lo}
	if hasMax {
		limits = []byte{1, lo, hi}
	}
	return newMod().sec(secMemory, 1, limits).sec(secExport, 1, exp("memory", 0x02, 0)).b
}

// TestModule_CapMemory caps a module's memory at 16 pages and checks the
// maximum wazero compiles from the rewrite.
func TestModule_CapMemory(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	tests := []struct {
		name    string
		wasm    []byte
		wantMax uint32
	}{
		{"OKNoMax", memoryModule(1, 0, false), 16},
		{"OKLargerMax", memoryModule(1, 100, true), 16},
		{"OKSmallerMax", memoryModule(1, 8, true), 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Read(tt.wasm)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.CapMemory(16); err != nil {
				t.Fatal(err)
			}
			out, err := m.Instrument()
			if err != nil {
				t.Fatal(err)
			}
			cm, err := r.CompileModule(ctx, out)
			if err != nil {
				t.Fatal(err)
			}
			if max, ok := cm.ExportedMemories()["memory"].Max(); !ok || max != tt.wantMax {
				t.Fatalf("max %d (declared %v), want %d", max, ok, tt.wantMax)
			}
		})
	}
	for _, tt := range []struct {
		name string
		wasm []byte
		text string
	}{
		{"ErrMinOver", memoryModule(17, 0, false), "memory 0 starts at 17 pages (1 MiB), over 1 MiB"},
		{"ErrShared", newMod().sec(secMemory, 1, []byte{3, 1, 2}).b, "memory 0 is shared or 64-bit (limits flag 0x3)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Read(tt.wasm)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.CapMemory(16); err == nil || err.Error() != tt.text {
				t.Fatalf("CapMemory(16) = %v, want %q", err, tt.text)
			}
		})
	}
}
