package console

import (
	"strings"
	"testing"
)

func TestAccessStatus(t *testing.T) {
	line := string(accessLine[:len(accessLine)-1])
	for _, tc := range []struct {
		name, line string
		want       int
	}{
		{"AccessLine", line, 200},
		{"Error", strings.Replace(line, `"status":200`, `"status":503`, 1), 503},
		{"SInPath", strings.Replace(line, "/v2/rpc/echo", "/sessions/ss/status", 1), 200},
		{"EscapedKeyInPath", strings.Replace(line, "/v2/rpc/echo", `/\"status\":500/s\"status`, 1), 200},
		{"FirstOfTwo", `{"status":404,"x":"s","status":200}`, 404},
		{"NoQuote", `{"xstatus":404,"status":201}`, 201},
		{"None", `{"level":"info","message":"request"}`, 0},
		{"NoDigits", `{"status":"ok"}`, 0},
		{"AtEnd", `"status":`, 0},
		{"Short", `s`, 0},
		{"Empty", ``, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := accessStatus([]byte(tc.line)); got != tc.want {
				t.Fatalf("accessStatus(%q) = %d, want %d", tc.line, got, tc.want)
			}
		})
	}
}

// BenchmarkAccessStatus measures the status search alone, on an access
// log line (a part of BenchmarkLogRing_Write's time per line).
func BenchmarkAccessStatus(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if accessStatus(accessLine) != 200 {
			b.Fatal("status not found")
		}
	}
}

// TestBenchmarkAccessStatus runs the benchmark once, so that it cannot rot.
func TestBenchmarkAccessStatus(t *testing.T) {
	if r := testing.Benchmark(BenchmarkAccessStatus); r.N == 0 {
		t.Fatal("benchmark did not run")
	}
}
