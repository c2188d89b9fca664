// Package gcfloor gives the Go garbage collector a heap floor: the heap
// may grow to a set size before the collector runs, however small the
// live heap is, and above it the collector paces as Go's default does.
//
// Go starts a cycle when the heap reaches its goal, by default twice the
// heap that the last cycle found live, and at least 4 MiB. A server whose
// live heap is a few MiB and which allocates a few KiB per request then
// collects dozens of times a second: under load, each cycle's marking,
// its write barriers and assists, and its cache misses cost Warden more
// than a tenth of its throughput (docs/benchmarks.md, "Issue 12, sixth
// pass"). Go has no knob for a floor: GOGC scales the goal with the live
// heap, which is unsafe when the live heap grows, and GOMEMLIMIT is a
// ceiling. A ballast (a large pointer-free allocation) would raise the
// goal, but it also shows in every heap figure an operator reads.
//
// Start keeps the goal at max(floor, Go's own goal) by setting the GC
// percentage after every cycle from the live heap that cycle found:
// floor/live - 1, never below the percentage the process started with.
// When the live heap passes half the floor, the percentage is the
// starting one again. A limit set with GOMEMLIMIT still holds: the
// runtime collects as it nears the limit whatever the percentage.
//
// # Notes
//
// The GC percentage belongs to the process. Several Starts may be active
// (tests run several servers in one process); the highest floor holds,
// and when the last one stops, the starting percentage is restored. A
// process whose GOGC variable is set has chosen its pacing: the caller
// should not Start (Warden's run does not).
package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// liveMetric is the runtime metric of the heap the last cycle marked live.
const liveMetric = "/gc/heap/live:bytes"

// goalMetric is the runtime metric of the heap goal (read by tests), and
// percentMetric that of the GC percentage.
const (
	goalMetric    = "/gc/heap/goal:bytes"
	percentMetric = "/gc/gogc:percent"
)

// heapMinimum is the runtime's least heap goal at a percentage of 100;
// at p percent it is heapMinimum*p/100 (runtime/mgcpacer.go,
// defaultHeapMinimum). A percentage for a floor must keep that minimum
// under the floor, or the goal would be the scaled minimum instead.
// TestStart_goal checks that the goal is the floor.
const heapMinimum = 4 << 20

// tuner is the process's one: the active floors and the percentage to
// return to.
var tuner struct {
	mu      sync.Mutex
	floors  map[*int64]int64 // active Starts
	base    int              // the percentage before the first Start
	percent int              // the percentage last set
	armed   bool             // a sentinel waits for the next cycle
}

// Start keeps the heap goal at least floor bytes until stop is called.
// A floor of zero or less does nothing.
func Start(floor int64) (stop func()) {
	if floor <= 0 {
		return func() {}
	}
	key := new(int64)
	tuner.mu.Lock()
	defer tuner.mu.Unlock()
	if len(tuner.floors) == 0 {
		tuner.floors = map[*int64]int64{}
		tuner.base = int(readMetric(percentMetric))
		tuner.percent = tuner.base
	}
	tuner.floors[key] = floor
	adjustLocked()
	if !tuner.armed {
		tuner.armed = true
		arm()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			tuner.mu.Lock()
			defer tuner.mu.Unlock()
			delete(tuner.floors, key)
			adjustLocked()
		})
	}
}

// Percent returns the GC percentage that the last adjustment set.
func Percent() int {
	tuner.mu.Lock()
	defer tuner.mu.Unlock()
	return tuner.percent
}

// sentinel is an object that nothing references: its finalizer runs after
// the cycle that found it unreachable, so once per cycle. It holds a
// pointer so that it is not batched with other tiny objects.
type sentinel struct{ _ *byte }

// arm sets a sentinel for the next cycle.
func arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		tuner.mu.Lock()
		defer tuner.mu.Unlock()
		adjustLocked()
		if tuner.armed = len(tuner.floors) > 0; tuner.armed {
			arm()
		}
	})
}

// adjustLocked sets the percentage for the highest active floor and the
// live heap of the last cycle, or the base one when no floor is active.
func adjustLocked() {
	want := tuner.base
	if len(tuner.floors) > 0 {
		want = percentFor(maxFloor(), liveHeap(), tuner.base)
	}
	if want != tuner.percent {
		debug.SetGCPercent(want)
		tuner.percent = want
	}
}

// percentFor returns the percentage whose goal is floor for a live heap
// of live bytes (0 before the first cycle), or base when base gives a
// goal as high. The goal at p percent is the larger of live*(1+p/100)
// and heapMinimum*p/100.
func percentFor(floor int64, live uint64, base int) int {
	if base < 0 { // GOGC=off: no cycles to pace
		return base
	}
	f := uint64(floor)
	p := f * 100 / heapMinimum
	if live > 0 {
		if live >= f {
			return base
		}
		p = min(p, f*100/live-100)
	}
	if p <= uint64(base) {
		return base
	}
	return int(p)
}

func maxFloor() int64 {
	var m int64
	for _, f := range tuner.floors {
		m = max(m, f)
	}
	return m
}

// liveHeap reads the heap the last cycle marked live, 0 before the first.
func liveHeap() uint64 { return readMetric(liveMetric) }

// readMetric reads one uint64 runtime metric, 0 when the runtime has none
// of that name.
func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
