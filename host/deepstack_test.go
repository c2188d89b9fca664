package host

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
)

// TestHost_callStackBounded: a call may go only so deep (about
// abi.MaxCallStackSlots of wazero's call stack): a deeper recursion traps,
// where it used to grow wazero's stack to hundreds of megabytes and keep
// them with the instance, outside the memory cap (80 MiB for a plugin
// capped at 64 KiB, 1.5 million calls deep). Calls under the bound work,
// over and over: what a call adds to the count, it takes away.
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
	// $rec has one parameter: 9 slots a call.
	if err := call(abi.MaxCallStackSlots/9 - 100); err != nil {
		t.Fatalf("a recursion just under the bound: %v", err)
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

// TestHost_grownCallStackNotKept: a call under the call-stack count whose
// frames are far larger than the count says (testdata/deepspill.wat keeps
// 128 values live across each recursive call, which wazero spills to the
// frame) grows wazero's call stack past what the count bounds; the
// instance is then not used again, so that the stack goes with it. It was
// kept with the instance: 133 MiB after one call, outside the memory cap.
func TestHost_grownCallStackNotKept(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "deepspill.wasm"), func(c *Config) {
		c.CallTimeout = time.Minute
		c.MaxMemoryPages = 1
	})
	call := func(depth uint32) error { return callDeep(h, depth) }
	if err := call(10); err != nil {
		t.Fatal(err)
	}
	before := liveHeap()
	if err := call(abi.MaxCallStackSlots/9 - 100); err != nil {
		t.Fatalf("a recursion under the count's bound: %v", err)
	}
	if kept := liveHeap() - before; kept > 32<<20 {
		t.Fatalf("the instance kept %d MiB of call stack after the call", kept>>20)
	}
	if err := call(10); err != nil {
		t.Fatalf("a call after: %v", err)
	}
}

// liveHeap returns the heap in use after a collection, in bytes.
func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// callDeep calls the RPC "deep" of testdata/deepstack.wat or deepspill.wat,
// which recurses depth calls deep.
func callDeep(h *Host, depth uint32) error {
	_, err := h.Call(context.Background(), &Request{ID: "deep", Payload: binary.LittleEndian.AppendUint32(nil, depth)})
	return err
}
