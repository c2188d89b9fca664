package console

import (
	"bytes"
	"flag"
	"testing"
)

// accessLine is an access log line as httpapi writes it.
var accessLine = []byte(`{"level":"info","node":"warden","component":"httpapi","req_id":"64d90cd3-55e9-49c5-844a-749b92b009d3","remote_addr":"127.0.0.1:49964","method":"POST","path":"/v2/rpc/echo","status":200,"size":7,"duration":0.091138,"plugin":"echo@f88ee60865a4","time":"2026-12-06T05:18:40Z","message":"request"}` + "\n")

// BenchmarkLogRing_Write measures what the tee under the root logger adds
// to each log line: one access log line per write, or a batch of 64.
func BenchmarkLogRing_Write(b *testing.B) {
	for _, n := range []int{1, 64} {
		batch := bytes.Repeat(accessLine, n)
		b.Run(map[int]string{1: "line", 64: "batch64"}[n], func(b *testing.B) {
			r := NewLogRing(0)
			b.ReportAllocs()
			b.SetBytes(int64(len(batch)))
			for b.Loop() {
				_, _ = r.Write(batch)
			}
		})
	}
}

// TestBenchmarkLogRing_Write runs the benchmark once (-benchtime=1x), so
// that it keeps working.
func TestBenchmarkLogRing_Write(t *testing.T) {
	bt := flag.Lookup("test.benchtime")
	old := bt.Value.String()
	if err := bt.Value.Set("1x"); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bt.Value.Set(old) }()
	if res := testing.Benchmark(BenchmarkLogRing_Write); res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}
