package interrupt

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// TestInstrument_bulkMemoryYields: a loop whose every iteration fills 32
// MiB (the host's default memory cap) passes one check per iteration, and
// so leaves for Go once in 65,536 fills, minutes apart: as many such
// guests as there are Ps hold every P, and no timer can set their flags
// (nor serve anything else). Bulk memory and table instructions must
// weigh more in the count. The bound is generous: the guests stop within
// milliseconds when they yield, and minutes late when they do not.
func TestInstrument_bulkMemoryYields(t *testing.T) {
	const pages = 512
	body := []byte{0x03, 0x40, 0x41, 0x00, 0x41, 0x00, 0x41}
	body = appendS32(body, pages<<16)
	body = append(body, 0xfc, 0x0b, 0x00, 0x0c, 0x00, 0x0b, 0x0b) // memory.fill; br 0; end; end
	wasm := newMod().sec(1, 1, types[0]).sec(3, 1, []byte{0}).sec(5, 1, appendU32([]byte{0x00}, pages)).
		sec(7, 1, exp("f0", 0x00, 0)).sec(10, 1, fn(body...)).b
	n := runtime.GOMAXPROCS(0) + 1
	var wg sync.WaitGroup
	begin := time.Now()
	for range n {
		mod, flag := instantiate(t, wasm, api.CoreFeaturesV2)
		wg.Go(func() { interruptCall(t, mod, flag, "f0") })
	}
	wg.Wait()
	if took := time.Since(begin); took > 30*time.Second {
		t.Fatalf("%d guests filling memory in a loop took %v to stop, want well under 30s", n, took)
	}
}

// TestInstrument_longBodyYields: a loop whose body is a long run of
// instructions with no loop, call or bulk instruction in it passes one
// check per iteration however long the run: loads that miss the cache,
// thousands of them per iteration, put seconds between exits to Go. The
// rewriter must count long runs of code, not only loop heads. (8,000 of
// them: 40,000 would make the function weigh more than
// abi.MaxFunctionFrameSlots.)
func TestInstrument_longBodyYields(t *testing.T) {
	const pages = 512
	body := []byte{0x01, 0x01, 0x7f, 0x03, 0x40} // one i32 local; loop
	for i := range 8000 {
		// local.get 0  i32.const stride  i32.add  local.tee 0  i32.load  drop
		body = append(body, 0x20, 0x00, 0x41)
		body = appendS32(body, int32(i%7+1)*4099*16)
		body = append(body, 0x6a, 0x22, 0x00, 0x41)
		body = appendS32(body, pages<<16-4)
		body = append(body, 0x71, 0x28, 0x02, 0x00, 0x1a) // i32.and (stay inside); i32.load; drop
	}
	body = append(body, 0x0c, 0x00, 0x0b, 0x0b)
	code := append(appendU32(nil, uint32(len(body))), body...)
	wasm := newMod().sec(1, 1, types[0]).sec(3, 1, []byte{0}).sec(5, 1, appendU32([]byte{0x00}, pages)).
		sec(7, 1, exp("f0", 0x00, 0)).sec(10, 1, code).b
	n := runtime.GOMAXPROCS(0) + 1
	mods, flags := make([]api.Module, n), make([]api.MutableGlobal, n)
	for i := range n {
		mods[i], flags[i] = instantiate(t, wasm, api.CoreFeaturesV2)
	}
	var wg sync.WaitGroup
	begin := time.Now()
	for i := range n {
		wg.Go(func() { interruptCall(t, mods[i], flags[i], "f0") })
	}
	wg.Wait()
	if took := time.Since(begin); took > 10*time.Second {
		t.Fatalf("%d guests looping over a long body took %v to stop, want well under 10s", n, took)
	}
}
