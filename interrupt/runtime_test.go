package interrupt

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/warden-rpc/warden/abi"
)

// instantiate instruments wasm and instantiates it in a runtime set up as
// Warden's (compiler, no close on context done), with the given core
// features, and returns the module and its flag.
func instantiate(t *testing.T, wasm []byte, features api.CoreFeatures) (api.Module, api.MutableGlobal) {
	t.Helper()
	out, err := Instrument(wasm)
	if err != nil {
		t.Fatalf("Instrument: %v", err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(false).WithCoreFeatures(features))
	t.Cleanup(func() { _ = rt.Close(ctx) })
	mod, err := rt.InstantiateWithConfig(ctx, out, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	flag, ok := mod.ExportedGlobal(abi.ExportInterrupt).(api.MutableGlobal)
	if !ok {
		t.Fatalf("%s is not an exported mutable global", abi.ExportInterrupt)
	}
	if flag.Get() != 0 {
		t.Fatalf("flag starts at %d, want 0", flag.Get())
	}
	return mod, flag
}

// interruptCall calls export under a timer that sets the flag, and fails
// unless the call traps. A call the flag cannot stop hangs until the test
// binary's own timeout. It may run on its own goroutine.
func interruptCall(t *testing.T, mod api.Module, flag api.MutableGlobal, export string, params ...uint64) {
	t.Helper()
	f := mod.ExportedFunction(export)
	if f == nil {
		t.Errorf("no export %s", export)
		return
	}
	timer := time.AfterFunc(20*time.Millisecond, func() { flag.Set(1) })
	defer timer.Stop()
	_, err := f.Call(context.Background(), params...)
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("call %s: error = %v, want the unreachable trap of the flag", export, err)
	}
}

// TestInstrument_interrupts runs guests that never end on their own, in
// wazero's compiler, and stops each by setting the flag: the compiled
// code reads the global again on every iteration and at every call.
func TestInstrument_interrupts(t *testing.T) {
	br0 := []byte{0x0c, 0x00}
	tests := []struct {
		name     string
		typeOf   []byte
		body     []byte
		params   []uint64
		features api.CoreFeatures
	}{
		{"Loop", []byte{0}, fn(cat([]byte{0x03, 0x40}, br0, []byte{0x0b, 0x0b})...), nil, 0},
		// A loop that carries an i32 (block type: type index 2), inside a
		// loop: the check after each loop's block type leaves the loop's
		// parameter in place.
		{"LoopWithParams", []byte{2}, fn(cat([]byte{0x03, 0x40, 0x20, 0x00, 0x03, 0x02}, br0,
			[]byte{0x0b, 0x1a, 0x0c, 0x00, 0x0b, 0x41, 0x00, 0x0b})...), []uint64{7}, 0},
		// Recursion with no loop at all: only the check at function entry
		// sees it.
		{"ReturnCallRecursion", []byte{0}, fn(0x12, 0x00, 0x0b), nil, experimental.CoreFeaturesTailCall},
		{"ReturnCallIndirectRecursion", []byte{2}, nil, []uint64{0}, experimental.CoreFeaturesTailCall},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wasm := loopModule(tt.typeOf, tt.body)
			if tt.body == nil { // return_call_indirect through a table of itself
				wasm = newMod().sec(1, len(types), types...).sec(3, 1, []byte{2}).
					sec(4, 1, []byte{0x70, 0x01, 0x01, 0x01}).sec(5, 1, memory).sec(7, 1, exp("f0", 0x00, 0)).
					sec(9, 1, []byte{0x00, 0x41, 0x00, 0x0b, 0x01, 0x00}).
					sec(10, 1, fn(0x20, 0x00, 0x41, 0x00, 0x13, 0x02, 0x00, 0x0b)).b
			}
			mod, flag := instantiate(t, wasm, api.CoreFeaturesV2|tt.features)
			interruptCall(t, mod, flag, "f0", tt.params...)
		})
	}
}

// TestInstrument_entryCheck: with the flag already set, a function with no
// loop traps on entry.
func TestInstrument_entryCheck(t *testing.T) {
	mod, flag := instantiate(t, loopModule([]byte{1}, fn(0x41, 0x2a, 0x0b)), api.CoreFeaturesV2)
	res, err := mod.ExportedFunction("f0").Call(context.Background())
	if err != nil || res[0] != 42 {
		t.Fatalf("before the flag: %v %v, want 42", res, err)
	}
	flag.Set(1)
	if _, err := mod.ExportedFunction("f0").Call(context.Background()); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("after the flag: error = %v, want unreachable", err)
	}
}

// TestInstrument_startSection: a start function that loops for ever no
// longer runs at instantiation; it is exported for the host, which can
// stop it.
func TestInstrument_startSection(t *testing.T) {
	wasm := newMod().sec(1, 1, types[0]).sec(3, 1, []byte{0}).sec(5, 1, memory).raw(8, []byte{0x00}).
		sec(10, 1, fn(0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b)).b
	mod, flag := instantiate(t, wasm, api.CoreFeaturesV2)
	interruptCall(t, mod, flag, abi.ExportStart)
}

// TestInstrument_customSections: DWARF sections go (their code offsets
// would lie), the name section and other custom sections stay.
func TestInstrument_customSections(t *testing.T) {
	m := newMod().raw(0, cat(name(".debug_info"), []byte{1, 2, 3})).raw(0, cat(name("producers"), []byte{0}))
	m.b = append(m.b, loopModule([]byte{0}, fn(0x0b))[8:]...)
	m.raw(0, cat(name("name"), []byte{0x01, 0x04, 0x01, 0x00, 0x01, 'f'}))
	out, err := Instrument(m.b)
	if err != nil {
		t.Fatal(err)
	}
	if err := compile(t, out); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		want bool
	}{{".debug_info", false}, {"producers", true}, {"name", true}} {
		if got := strings.Contains(string(out), string(name(c.name))); got != c.want {
			t.Errorf("custom section %s kept = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestInstrument_moreGuestsThanPs runs more looping guests than there are
// Ps, each to be stopped by its own timer. Native code is never preempted:
// without the instrumented exits to Go, the looping goroutines would hold
// every P, no timer would run, and the test would hang.
func TestInstrument_moreGuestsThanPs(t *testing.T) {
	n := runtime.GOMAXPROCS(0) + 1
	var wg sync.WaitGroup
	for range n {
		mod, flag := instantiate(t, loopModule([]byte{0}, fn(0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b)), api.CoreFeaturesV2)
		wg.Go(func() { interruptCall(t, mod, flag, "f0") })
	}
	wg.Wait()
}
