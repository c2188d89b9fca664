package main

import (
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
)

// gcPercent reads the runtime's GC percentage.
func gcPercent(t *testing.T) int {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// TestServer_heapFloor: a running server raises the GC percentage so that
// the heap may grow to -heap-floor, and puts it back when it stops; with
// -heap-floor 0, or with GOGC set, it leaves Go's pacing alone.
func TestServer_heapFloor(t *testing.T) {
	base := gcPercent(t)
	cases := []struct {
		name   string
		floor  string
		gogc   string
		raised bool
	}{
		// 1 GiB: far above the test binary's live heap, so the percentage
		// must rise whatever the other tests left live.
		{"floor", "1024", "", true},
		{"off", "0", "", false},
		{"GOGC set", "1024", "100", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", tc.gogc) // "" counts as unset, as for the runtime
			s := startServer(t, append(dataArgs(t, fixtureDir(t, "../../plugins/echo/echo.wasm")), "-heap-floor", tc.floor)...)
			runtime.GC()
			if got := gcPercent(t); (got > base) != tc.raised {
				t.Errorf("GC percent %d while serving with -heap-floor %s (GOGC %q), want raised: %v", got, tc.floor, tc.gogc, tc.raised)
			}
			if tc.gogc != "" && !strings.Contains(s.logs.String(), "-heap-floor is ignored") {
				t.Errorf("no warning that -heap-floor is ignored; logs:\n%s", s.logs.String())
			}
			s.stop(t)
			if got := gcPercent(t); got != base {
				t.Errorf("GC percent %d after the server stopped, want %d", got, base)
			}
		})
	}
}

func TestParseConfig_heapFloor(t *testing.T) {
	c, err := parseConfig(nil, func(string) string { return "" }, nil)
	if err != nil || c.HeapFloorMiB != defaultHeapFloorMiB {
		t.Fatalf("default heap floor %v, %v; want %d", c, err, defaultHeapFloorMiB)
	}
	if _, err := parseConfig([]string{"-heap-floor", "-1"}, func(string) string { return "" }, nil); err == nil || !strings.Contains(err.Error(), "heap-floor") {
		t.Fatalf("-heap-floor -1: %v, want a heap-floor error", err)
	}
	c, err = parseConfig(nil, func(k string) string {
		if k == "WARDEN_HEAP_FLOOR" {
			return "64"
		}
		return ""
	}, nil)
	if err != nil || c.HeapFloorMiB != 64 {
		t.Fatalf("WARDEN_HEAP_FLOOR=64: %v, %v", c.HeapFloorMiB, err)
	}
}
