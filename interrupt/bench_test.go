package interrupt

import (
	"os"
	"testing"
)

// BenchmarkInstrument measures rewriting the largest committed plugin, the
// Go echo example (3 MB), alone: what instrumenting adds to a load before
// wazero compiles. It reports how much larger the rewritten module is.
func BenchmarkInstrument(b *testing.B) {
	wasm, err := os.ReadFile("../examples/go/echo/echo.wasm")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(wasm)))
	var out []byte
	for b.Loop() {
		if out, err = Instrument(wasm); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(out))/float64(len(wasm)), "out/in-bytes")
}
