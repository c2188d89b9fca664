package host

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/warden-rpc/warden/abi"
)

// TestHost_callStackBounded: a call may go only so deep (about
// abi.MaxCallStackSlots of wazero's call stack, each frame weighed by the
// bound of its size): a deeper recursion traps, where it used to grow
// wazero's stack to hundreds of megabytes and keep them with the
// instance, outside the memory cap (80 MiB for a plugin capped at 64 KiB,
// 1.5 million calls deep). Calls under the bound work, over and over:
// what a call adds to the count, it takes away.
func TestHost_callStackBounded(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "deepstack.wasm"), func(c *Config) {
		c.CallTimeout = time.Minute
		c.MaxMemoryPages = 1
		c.BreakerThreshold = 1000
	})
	call := func(depth uint32) error { return callDeep(h, depth) }
	for i := range 200 { // 200 × 1,000 calls deep: a count left behind would pass the bound
		if err := call(1000); err != nil {
			t.Fatalf("call %d, 1,000 deep: %v", i, err)
		}
	}
	// $rec, a small function, weighs under 1,000 slots: a recursion of
	// it goes 2,000 deep and more.
	if err := call(abi.MaxCallStackSlots / 1000); err != nil {
		t.Fatalf("a recursion %d deep: %v", abi.MaxCallStackSlots/1000, err)
	}
	before := liveHeap()
	err := call(1_500_000)
	var ce *CallError
	if !errors.As(err, &ce) || ce.Code != abi.CodeInternal || !strings.HasPrefix(ce.Message, "plugin trapped: stack overflow") {
		t.Fatalf("a recursion 1.5 million deep: %v, want a stack overflow (code 13)", err)
	}
	if grown := liveHeap() - before; grown > 32<<20 {
		t.Fatalf("the heap grew by %d MiB after a refused deep recursion", grown>>20)
	}
	if err := call(1000); err != nil {
		t.Fatalf("a call after the trap: %v", err)
	}
}

// TestInstance_stackGrown: an instance whose handler's call stack grew
// past maxKeptCallStack is not used again (Plugin.call), so that the
// stack goes with it. The count keeps a call's stack to what it weighs,
// which is far more than the frames of any plugin take: this is the
// backstop should the weights ever fall short (a wazero whose compiler
// builds larger frames), as they did before frames were weighed by what
// wazero spills (133 MiB kept after one call of testdata/deepspill.wat).
// The stack is read where wazero keeps it, the field stack of the
// function's call engine; fakeEngine has one.
func TestInstance_stackGrown(t *testing.T) {
	f := &fakeEngine{}
	off, ok := stackFieldOf(reflect.TypeOf(api.Function(f)))
	if !ok {
		t.Fatal("stackFieldOf does not find the field stack")
	}
	inst := &instance{handle: f, handleStack: int(off)}
	tests := []struct {
		name  string
		bytes int
		want  bool
	}{
		{"Small", 64 << 10, false},
		{"AtTheBound", maxKeptCallStack, false},
		{"Grown", maxKeptCallStack + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.stack = make([]byte, tt.bytes)
			if got := inst.stackGrown(); got != tt.want {
				t.Fatalf("stackGrown() with a stack of %d bytes = %v, want %v", tt.bytes, got, tt.want)
			}
		})
	}
}

// fakeEngine stands for wazero's call engine in TestInstance_stackGrown.
type fakeEngine struct {
	api.Function
	stack []byte
}

// liveHeap returns the heap in use after a collection, in bytes.
func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// callDeep calls the RPC "deep" of testdata/deepstack.wat, which recurses
// depth calls deep.
func callDeep(h *Host, depth uint32) error {
	_, err := h.Call(context.Background(), &Request{ID: "deep", Payload: binary.LittleEndian.AppendUint32(nil, depth)})
	return err
}

// hostileRecursions are recursions whose frames hold far more of wazero's
// call stack than their locals and parameters: values that wazero's
// optimizing compiler keeps in a slot of the frame each (every SSA value
// its own spill slot), and the area a call's arguments and results take.
func hostileRecursions() []struct {
	name string
	r    recursion
} {
	i64Load, v128Load := []byte{wI64Load, 3}, []byte{wSIMD, wV128Load, 4}
	var operands, vectors, sets, loops, results, params recursion
	// 64 i64 values on the operand stack under the recursive call, their
	// sum stored after it.
	operands.code = []byte{wI32Const, 8}
	for k := range 64 {
		operands.code = append(operands.code, load(i64Load, 8*k)...)
	}
	operands.code = append(operands.code, recurse(operands)...)
	operands.code = append(append(operands.code, bytes.Repeat([]byte{wI64Add}, 63)...), wI64Store, 3, 0)
	// 32 v128 values, 16 bytes each, under the call.
	vectors.code = []byte{wI32Const, 8}
	for k := range 32 {
		vectors.code = append(vectors.code, load(v128Load, 16*k)...)
	}
	vectors.code = append(vectors.code, recurse(vectors)...)
	for range 31 {
		vectors.code = append(vectors.code, wSIMD, wV128Or)
	}
	vectors.code = append(vectors.code, wSIMD, wV128Store, 4, 0)
	// 8 locals set 16 times, a call between the rounds: each value a new
	// SSA value live across a call.
	bump := func(k byte) []byte { return []byte{wLocalGet, k, wI64Const, 1, wI64Add, wLocalSet, k} }
	keep := func(r *recursion, n byte) { // store every local after the recursion
		for k := byte(1); k <= n; k++ {
			r.code = append(r.code, wI32Const, 8, wLocalGet, k, wI64Store, 3, 0)
		}
	}
	sets.locals = []byte{1, 8, wI64}
	for range 16 {
		for k := byte(1); k <= 8; k++ {
			sets.code = append(sets.code, bump(k)...)
		}
		sets.code = append(sets.code, wCall, 6)
	}
	sets.code = append(sets.code, recurse(sets)...)
	keep(&sets, 8)
	// 8 locals and 16 loops, each with a call: every loop header merges
	// every local, a block parameter each, live across the call.
	loops.locals = []byte{1, 8, wI64}
	for range 16 {
		loops.code = append(loops.code, wLoop, wVoid, wCall, 6)
		for k := byte(1); k <= 8; k++ {
			loops.code = append(loops.code, bump(k)...)
		}
		loops.code = append(loops.code, wLocalGet, 0, wI32Eqz, wBrIf, 0, wEnd)
	}
	loops.code = append(loops.code, recurse(loops)...)
	keep(&loops, 8)
	// 64 results: the caller's frame holds the area they come back in.
	results.results = bytes.Repeat([]byte{wI64}, 64)
	results.code = recurse(results)
	// 64 parameters, passed on and read after the call.
	params.params = bytes.Repeat([]byte{wI64}, 64)
	params.code = []byte{wLocalGet, 0, wI32Const, 1, wI32Sub}
	for k := byte(1); k <= 64; k++ {
		params.code = append(params.code, wLocalGet, k)
	}
	params.code = append(params.code, wCall, 5)
	keep(&params, 64)
	return []struct {
		name string
		r    recursion
	}{
		{"OperandStack", operands}, {"V128", vectors}, {"LocalSets", sets},
		{"LoopsWithCalls", loops}, {"ManyResults", results}, {"ManyParams", params},
	}
}

// maxCallStackBytes bounds wazero's call stack after any call. The count
// keeps the frames of the functions whose check has run to
// abi.MaxCallStackSlots slots, each weighed by a bound of its frame, but a
// frame is taken before its function's check traps: one more of at most
// abi.MaxFunctionFrameSlots may be in use, U at most in all. wazero grows
// the stack only when what is in use and the next frame pass its length,
// to twice that length and the frame: at most 2U and one frame more. The
// entry's frame and wazero's first 10 KiB fit in the spare MiB.
const maxCallStackBytes = 8*(2*(abi.MaxCallStackSlots+abi.MaxFunctionFrameSlots)+abi.MaxFunctionFrameSlots) + 1<<20

// TestHost_hostileFramesBounded: recursions whose frames take far more of
// wazero's call stack than their locals and parameters stop with a stack
// overflow while wazero's stack is still under maxCallStackBytes. The
// count weighed a frame by its locals and parameters and 8 slots: each
// grew the stack to tens or hundreds of megabytes in one call, outside
// every memory cap.
func TestHost_hostileFramesBounded(t *testing.T) {
	spill, err := os.ReadFile("testdata/deepspill.wasm") // 128 i64 values under the call
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		wasm []byte
	}{{"DeepSpill", spill}}
	for _, r := range hostileRecursions() {
		tests = append(tests, struct {
			name string
			wasm []byte
		}{r.name, r.r.module()})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			grown, err := callDeepOnce(t, tt.wasm, 5_000_000)
			var ce *CallError
			if !errors.As(err, &ce) || !strings.HasPrefix(ce.Message, "plugin trapped: stack overflow") {
				t.Errorf("a recursion 5 million deep: %v, want a stack overflow", err)
			}
			t.Logf("wazero's call stack: %.1f MiB (%v)", float64(grown)/(1<<20), err)
			if grown > maxCallStackBytes {
				t.Errorf("wazero's call stack grew to %.1f MiB, want at most %d MiB", float64(grown)/(1<<20), maxCallStackBytes>>20)
			}
		})
	}
}

// callDeepOnce loads wasm as a plugin and calls its RPC "deep" once, on
// the plugin's first instance, depth calls deep; it returns the call's
// error and how large wazero's call stack for the handler grew.
func callDeepOnce(t *testing.T, wasm []byte, depth uint32) (int, error) {
	t.Helper()
	ctx := context.Background()
	h := newTestHost(t, t.TempDir(), func(c *Config) { c.CallTimeout = time.Minute; c.MaxMemoryPages = 1 })
	p, err := h.loadPlugin(ctx, newSnapshotFile("deep.wasm", wasm, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.close(ctx) })
	deadline := time.Now().Add(time.Minute)
	inst, _, err := p.pool.get(ctx, deadline)
	if err != nil {
		t.Fatal(err)
	}
	defer p.pool.put(ctx, inst, false)
	if inst.handleStack < 0 {
		t.Fatal("wazero's call stack cannot be read (stackFieldOf)")
	}
	inst.cc.start(ctx, deadline, time.Minute)
	_, _, err = inst.call(inst.cc, &rpcEntry{id: "deep", plugin: p, handlerID: 1}, &Request{ID: "deep", Payload: binary.LittleEndian.AppendUint32(nil, depth)})
	inst.cc.stop()
	return callStackBytes(inst.handle, uintptr(inst.handleStack)), err
}
