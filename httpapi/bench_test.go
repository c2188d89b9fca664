package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// BenchmarkServer_RPC measures the HTTP layer of one RPC call (routing,
// Bearer session verification, payload decoding, request building, response
// encoding) through Handler, with a caller that echoes without WebAssembly.
func BenchmarkServer_RPC(b *testing.B) {
	s, err := NewServer(Config{Caller: echoCaller{}, HTTPKey: testHTTPKey, EncryptionKey: testEncKey, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	authz := "Bearer " + token(b, testEncKey, validClaims())
	const body = `"{\"score\":1234,\"name\":\"alice\"}"`
	const want = `{"payload":"{\"score\":1234,\"name\":\"alice\"}"}`
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/v2/rpc/echo?", strings.NewReader(body))
			req.Header.Set("Authorization", authz)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK || w.Body.String() != want {
				b.Errorf("got %d %s", w.Code, w.Body)
				return
			}
		}
	})
}

// TestBenchmarkServer_RPC runs the benchmark, so that it cannot rot.
func TestBenchmarkServer_RPC(t *testing.T) {
	r := testing.Benchmark(BenchmarkServer_RPC)
	if r.N == 0 {
		t.Fatal("benchmark did not run")
	}
	t.Logf("%s %s", r, r.MemString())
}
