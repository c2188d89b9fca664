package host

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"

	"github.com/warden-rpc/warden/abi"
)

// record encodes one host call for the fuzzer plugin: function number fn
// (its index in abi.Imports()) and six i32 arguments.
func record(fn byte, args ...int32) []byte {
	b := []byte{fn}
	for i := range 6 {
		var a int32
		if i < len(args) {
			a = args[i]
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(a))
	}
	return b
}

// FuzzHost_hostCalls drives random sequences of host calls, with arbitrary
// pointers, lengths, levels, modes and codes, through the fuzzer plugin. A
// host function must answer every one with a status: the call succeeds, or
// fails only because the guest called panic; a host panic (which wazero
// reports as "recovered by wazero") or a trap is a bug.
func FuzzHost_hostCalls(f *testing.F) {
	bad, huge := int32(-16), int32(0x7fffffff)
	for i := range len(abi.Imports()) {
		f.Add(record(byte(i), bad, 64, bad, 64, 1, 0))
		f.Add(record(byte(i), 0, huge, 0, huge, 0, huge))
		f.Add(record(byte(i), 65536, 25, 65536, 25, 65536, 25))
	}
	f.Add(append(record(10, 1), append(record(8, 65536, 50), record(11)...)...)) // begin, exec, commit
	h := newTestHost(f, pluginDir(f, "fuzzer.wasm"), func(c *Config) {
		c.Logger = zerolog.Nop()
		c.CallTimeout = 5 * time.Second
		c.BreakerThreshold = 1 << 30 // panics are expected here
	})
	f.Fuzz(func(t *testing.T, input []byte) {
		res, err := h.Call(context.Background(), &Request{ID: "fuzz", Payload: input, Trace: TraceID("t")})
		var ce *CallError
		switch {
		case err == nil:
			if len(res.Output) > h.cfg.MaxOutputBytes {
				t.Fatalf("output of %d bytes passed the limit", len(res.Output))
			}
		case errors.As(err, &ce) && ce.Code == abi.CodeInternal && strings.HasPrefix(ce.Message, "panic: "):
		default:
			t.Fatalf("host calls %x: %v (cause %v)", input, err, errors.Unwrap(err))
		}
	})
}

// TestFuzzer_importsEveryFunction keeps the fuzzer plugin in step with the
// ABI: it must import every host function, in abi.Imports() order, since the
// fuzz input numbers functions by that order.
func TestFuzzer_importsEveryFunction(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	cm, err := r.CompileModule(ctx, fixture(t, "fuzzer.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	imports := cm.ImportedFunctions()
	want := abi.Imports()
	if len(imports) != len(want) {
		t.Fatalf("fuzzer imports %d functions, the ABI has %d", len(imports), len(want))
	}
	for i, imp := range imports {
		if _, name, _ := imp.Import(); name != want[i].Name {
			t.Errorf("import %d is %s, want %s", i, name, want[i].Name)
		}
	}
}
