package interrupt

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/warden-rpc/warden/abi"
)

// compile compiles wasm in a runtime configured as Warden's (the default
// core features, no close on context done).
func compile(t testing.TB, wasm []byte) error {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(false))
	defer rt.Close(ctx)
	_, err := rt.CompileModule(ctx, wasm)
	return err
}

// TestInstrument_attacks feeds the rewriter modules that, rewritten,
// would let a guest reach the flag, or that are malformed: each must be
// refused with an error, never a panic or a module.
func TestInstrument_attacks(t *testing.T) {
	global := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b}
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0x0f}
	tests := []struct {
		name string
		wasm []byte
		want error  // errors.Is target, or nil to match text
		text string // substring of the error
	}{
		// The module has one global (index 0); index 1 is where the flag
		// goes. Before the rewrite the module is invalid, after it the
		// guest could clear the flag and loop for ever.
		{"GlobalSetFlagIndex", loopModule([]byte{0}, fn(0x03, 0x40, 0x41, 0x00, 0x24, 0x01, 0x0c, 0x00, 0x0b, 0x0b)), ErrGlobalIndex, "function 0"},
		{"GlobalGetFlagIndex", loopModule([]byte{1}, fn(0x23, 0x01, 0x0b)), ErrGlobalIndex, "global 1"},
		{"GlobalInitRefersToFlag", newMod().sec(6, 2, global, []byte{0x7f, 0x00, 0x23, 0x02, 0x0b}).b, ErrGlobalIndex, "global 1"},
		{"ElemOffsetRefersToFlag", newMod().sec(4, 1, []byte{0x70, 0x01, 0x01, 0x01}).sec(6, 1, global).
			sec(9, 1, []byte{0x00, 0x23, 0x01, 0x0b, 0x00}).b, ErrGlobalIndex, "element segment 0"},
		{"ElemExprRefersToFlag", newMod().sec(6, 1, global).
			sec(9, 1, []byte{0x05, 0x70, 0x01, 0x23, 0x01, 0x0b}).b, ErrGlobalIndex, "element segment 0"},
		{"DataOffsetRefersToFlag", newMod().sec(5, 1, []byte{0x00, 0x01}).sec(6, 1, global).
			sec(11, 1, []byte{0x00, 0x23, 0x01, 0x0b, 0x00}).b, ErrGlobalIndex, "data segment 0"},
		// An export of global 1, which the module does not have: wazero
		// refuses the original, but the rewrite would export the flag
		// under a name the guest chose.
		{"ExportsFlagIndex", newMod().sec(5, 1, memory).sec(6, 1, global).sec(7, 1, exp("x", 0x03, 1)).b, ErrGlobalIndex, "export \"x\""},
		{"ExportsReservedFlag", newMod().sec(6, 1, global).sec(7, 1, exp(abi.ExportInterrupt, 0x03, 0)).b, ErrReserved, abi.ExportInterrupt},
		{"ExportsReservedStart", newMod().sec(1, 1, types[0]).sec(3, 1, []byte{0}).
			sec(7, 1, exp(abi.ExportStart, 0x00, 0)).sec(10, 1, fn(0x0b)).b, ErrReserved, abi.ExportStart},
		{"ImportsReserved", newMod().sec(2, 1, cat(name("env"), name(abi.ExportInterrupt), []byte{0x03, 0x7f, 0x01})).b, ErrReserved, "env." + abi.ExportInterrupt},
		// A guest that could name the call-stack count could reset it, or
		// make the host call its own trap a stack overflow.
		{"ExportsReservedCallStack", newMod().sec(6, 1, global).sec(7, 1, exp(abi.ExportCallStack, 0x03, 0)).b, ErrReserved, abi.ExportCallStack},
		{"ImportsReservedCallStack", newMod().sec(2, 1, cat(name("env"), name(abi.ExportCallStack), []byte{0x03, 0x7f, 0x01})).b, ErrReserved, "env." + abi.ExportCallStack},
		{"UnknownOpcode", loopModule([]byte{0}, fn(0x06, 0x40, 0x0b, 0x0b)), nil, "function 0: offset 0x"},
		{"UnknownMiscOpcode", loopModule([]byte{0}, fn(0xfc, 0x12, 0x0b)), nil, "unknown opcode 0xfc 18"},
		{"SIMDGap", loopModule([]byte{0}, fn(0xfd, 0x9a, 0x01, 0x0b)), nil, "unknown opcode 0xfd 154"},
		{"Atomics", loopModule([]byte{0}, fn(0xfe, 0x03, 0x00, 0x0b)), nil, "unknown opcode 0xfe"},
		{"TagSection", newMod().sec(13, 0).b, nil, "exception handling"},
		{"NotWasm", []byte("\x00asn\x01\x00\x00\x00"), nil, "not a WebAssembly"},
		{"Empty", nil, nil, "not a WebAssembly"},
		{"TruncatedLEB", append(newMod().b, 0x01, 0x80, 0x80), nil, "unexpected end"},
		{"OverlongLEB", append(newMod().b, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), nil, "LEB128"},
		{"SectionPastEnd", append(newMod().b, 0x01, 0x7f, 0x00), nil, "size 127"},
		{"HugeCount", newMod().raw(10, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}).b, nil, "count 4294967295"},
		{"HugeBrTable", loopModule([]byte{0}, fn(0x0e, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00)), nil, "count 4294967295"},
		{"BodyPastEnd", newMod().sec(1, 1, types[0]).sec(3, 1, []byte{0}).raw(10, []byte{0x01, 0x10, 0x00}).b, nil, "function 0 at"},
		{"TruncatedInstruction", loopModule([]byte{1}, fn(0x41)), nil, "unexpected end"},
		{"RepeatedSection", newMod().sec(1, 0).sec(1, 0).b, nil, "out of order"},
		{"UnknownSection", newMod().raw(14, nil).b, nil, "section 14"},
		{"TrailingBytes", newMod().raw(7, []byte{0x00, 0x00}).b, nil, "trailing bytes"},
		{"NoMemory", newMod().sec(1, 1, types[0]).sec(3, 1, []byte{0}).sec(10, 1, fn(0x0b)).b, nil, "no memory"},
		// wazero sizes slices by these counts before reading the entries:
		// each of these few-byte modules made it allocate gigabytes, or
		// die of "fatal error: out of memory" (not a panic: nothing
		// recovers it) under a memory limit.
		{"HugeLocals", loopModule([]byte{0}, cat([]byte{8, 0x01}, huge, []byte{0x7f, 0x0b})), ErrLimit, "function 0: declares more than 50000 locals"},
		{"ManyLocalDecls", loopModule([]byte{0}, cat([]byte{8, 0x02, 0xd0, 0x86, 0x03, 0x7f, 0x01, 0x7e, 0x0b})), ErrLimit, "locals"},
		{"HugeTypeCount", newMod().raw(1, cat(huge, types[0])).b, ErrLimit, "count 4294967295"},
		{"HugeTypeParams", newMod().raw(1, cat([]byte{0x01, 0x60}, huge, []byte{0x7f})).b, ErrLimit, "count 4294967295"},
		{"HugeFunctionCount", newMod().sec(1, 1, types[0]).raw(3, cat(huge, []byte{0})).b, ErrLimit, "section 3"},
		{"HugeTableCount", newMod().raw(4, cat(huge, []byte{0x70, 0x00, 0x00})).b, ErrLimit, "section 4"},
		{"HugeMemoryCount", newMod().raw(5, cat(huge, []byte{0x00, 0x00})).b, ErrLimit, "section 5"},
		{"HugeElemCount", newMod().raw(9, cat([]byte{0x01, 0x01, 0x00}, huge)).b, ErrLimit, "element segment 0"},
		{"HugeFunctionNames", newMod().raw(0, cat(name("name"), []byte{0x01, 0x05}, huge)).b, ErrLimit, "name subsection 1"},
		{"HugeLocalNames", newMod().raw(0, cat(name("name"), []byte{0x02, 0x07, 0x01, 0x00}, huge)).b, ErrLimit, "name subsection 2"},
		{"ConstExprNotConst", newMod().sec(6, 1, []byte{0x7f, 0x00, 0x41, 0x00, 0x41, 0x00, 0x6a, 0x0b}).b, nil, "not allowed in a constant expression"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Instrument(tt.wasm)
			if err == nil {
				t.Fatalf("Instrument accepted the module (%d bytes out)", len(out))
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error = %q, want it to contain %q", err, tt.text)
			}
		})
	}
}

// TestInstrument_attackModulesWouldRunAfterRewrite shows why the global
// index check exists: the module that sets global 1 is invalid as given,
// but the same bytes with a second global appended compile.
func TestInstrument_attackModulesWouldRunAfterRewrite(t *testing.T) {
	attack := loopModule([]byte{0}, fn(0x41, 0x00, 0x24, 0x01, 0x0b))
	if err := compile(t, attack); err == nil {
		t.Fatal("wazero compiled a module that sets a global it does not have")
	}
	global := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b}
	m := newMod().sec(1, len(types), types...).sec(3, 1, []byte{0}).sec(5, 1, memory).sec(6, 2, global, global).
		sec(10, 1, fn(0x41, 0x00, 0x24, 0x01, 0x0b))
	if err := compile(t, m.b); err != nil {
		t.Fatalf("with the flag appended, the attack compiles: %v", err)
	}
}
