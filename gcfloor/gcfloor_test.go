package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestMain starts from Go's default percentage, whatever GOGC says, as
// the tests compute what the floor sets from a base of 100.
func TestMain(m *testing.M) {
	debug.SetGCPercent(100)
	os.Exit(m.Run())
}

const mib = 1 << 20

// sink keeps allocations from being optimized away.
var sink []byte

// churn allocates n bytes of garbage in 16 KiB pieces and returns how many
// GC cycles ran meanwhile.
func churn(n int) uint64 {
	before := readMetric("/gc/cycles/total:gc-cycles")
	for i := 0; i < n/(16<<10); i++ {
		sink = make([]byte, 16<<10)
	}
	return readMetric("/gc/cycles/total:gc-cycles") - before
}

// settle forces cycles until the finalizer that follows one has set the
// percentage for floor (0: none active) and the live heap that cycle
// found, and returns it. The live heap is read again each time, as other
// tests' garbage may still be going.
func settle(t *testing.T, floor int64) int {
	t.Helper()
	want := func() int {
		if floor == 0 {
			return 100
		}
		return percentFor(floor, liveHeap(), 100)
	}
	for i := 0; i < 500; i++ {
		runtime.GC()
		time.Sleep(2 * time.Millisecond)
		if w := want(); Percent() == w && int(readMetric(percentMetric)) == w {
			return w
		}
	}
	t.Fatalf("percent %d (runtime's %d), want %d for a %d MiB floor and %d KiB live",
		Percent(), readMetric(percentMetric), want(), floor/mib, liveHeap()>>10)
	return 0
}

// TestStart_fewerCycles is the point of the package: with a 64 MiB floor,
// 512 MiB of short-lived garbage over a small live heap takes about 512/64
// = 8 cycles instead of one per 4 MiB or so. The test allows twice that:
// when other tests hold the CPUs, a cycle's mark phase runs long while the
// churn goes on, which changes the counts (with the floor, 10 or 11 under
// load). Without a floor the count is far above the bound on a quiet
// machine (about 128) and still above it on a loaded one (27, go test
// ./... on two cores), so a floor that does nothing fails; a ratio to that
// loaded count did not hold, and the test no longer makes one.
func TestStart_fewerCycles(t *testing.T) {
	runtime.GC()
	stop := Start(64 * mib)
	churn(64 * mib) // the first cycles set the percentage from a live heap
	with := churn(512 * mib)
	stop()
	t.Logf("cycles for 512 MiB with a 64 MiB floor: %d", with)
	if with > 16 {
		t.Fatalf("%d cycles with a 64 MiB floor, want at most 16 (512/64, twice)", with)
	}
}

// TestStart_goal checks the runtime's own goal: the floor, not the heap
// minimum scaled by the percentage.
func TestStart_goal(t *testing.T) {
	stop := Start(48 * mib)
	defer stop()
	churn(100 * mib)
	p := settle(t, 48*mib)
	goal := readMetric(goalMetric)
	if goal < 46*mib || goal > 56*mib {
		t.Fatalf("heap goal %d MiB, want about 48 (live %d KiB, percent %d)", goal/mib, liveHeap()>>10, p)
	}
}

// TestStart_liveAboveFloor: a live heap over half the floor gets Go's own
// pacing back, so that a growing heap never meets an inflated percentage.
func TestStart_liveAboveFloor(t *testing.T) {
	stop := Start(32 * mib)
	defer stop()
	if p := settle(t, 32*mib); p <= 100 {
		t.Fatalf("percent %d with a small live heap, want more than 100", p)
	}
	held := make([][]byte, 24)
	for i := range held {
		held[i] = make([]byte, mib)
	}
	if p := settle(t, 32*mib); p != 100 {
		t.Fatalf("percent %d with %d KiB live, want 100", p, liveHeap()>>10)
	}
	runtime.KeepAlive(held)
}

// TestStart_stop restores the starting percentage when the last floor
// stops, and the highest of several floors holds meanwhile.
func TestStart_stop(t *testing.T) {
	stopA := Start(16 * mib)
	stopB := Start(64 * mib)
	settle(t, 64*mib)
	stopB()
	stopB() // twice is once
	settle(t, 16*mib)
	stopA()
	settle(t, 0)
	if s := Start(0); s == nil {
		t.Fatal("Start(0) returned no stop")
	}
	if Percent() != 100 {
		t.Fatalf("Start(0) changed the percent to %d", Percent())
	}
}

func TestPercentFor(t *testing.T) {
	for _, tc := range []struct {
		name  string
		floor int64
		live  uint64
		base  int
		want  int
	}{
		{"before any cycle: the scaled minimum is the floor", 32 * mib, 0, 100, 800},
		{"small live heap: the scaled minimum bounds it", 32 * mib, 2 * mib, 100, 800},
		{"live heap sets it", 32 * mib, 8 * mib, 100, 300},
		{"half the floor: the base", 32 * mib, 16 * mib, 100, 100},
		{"above the floor: the base", 32 * mib, 40 * mib, 100, 100},
		{"a higher base wins", 32 * mib, 8 * mib, 400, 400},
		{"GOGC=off stays off", 32 * mib, 8 * mib, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentFor(tc.floor, tc.live, tc.base); got != tc.want {
				t.Fatalf("percentFor(%d MiB, %d MiB, %d) = %d, want %d", tc.floor/mib, tc.live/mib, tc.base, got, tc.want)
			}
		})
	}
}
