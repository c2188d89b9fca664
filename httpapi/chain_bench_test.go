package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/accounts"
	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/metrics"
	"github.com/warden-rpc/warden/session"
)

// chainBody is the benchmarks' request body: 52 bytes of JSON, as in
// docs/benchmarks.md's HTTP runs.
const chainBody = `{"hello":"world","n":4242,"list":[1,2,3],"ok":false}`

// BenchmarkServer_chain measures Warden's whole handler chain, middleware
// included, on the real Rust plugins (plugins/echo and plugins/seed): one
// ServeHTTP per operation on a request and a response writer reused by each
// goroutine, with no network, as a server with the default flags (access
// log on, batched into a writer that discards) serves them. Its allocs/op are the
// figure to watch: they do not depend on the machine's load. The _metrics
// cases run the same with Prometheus metrics on (-metrics-addr).
func BenchmarkServer_chain(b *testing.B) {
	plain, plainSessions := chainServer(b, nil)
	withMetrics, metricsSessions := chainServer(b, metrics.New())
	authz := []string{"Bearer " + token(b, testEncKey, validClaims())}
	cases := []struct {
		name    string
		method  string
		target  string
		authz   []string
		want    string
		wantCT  string
		payload bool
	}{
		{"EchoHTTPKey", "POST", "/v2/rpc/echo?http_key=" + testHTTPKey + "&unwrap", nil, chainBody, contentTypeJSON, true},
		{"EchoBearer", "POST", "/v2/rpc/echo?unwrap", authz, chainBody, contentTypeJSON, true},
		{"RouteTest", "GET", "/test", nil, "You hit the new endpoint!", "text/plain; charset=utf-8", false},
	}
	for _, tc := range cases {
		for _, v := range []struct {
			suffix   string
			s        *Server
			sessions *countSessions
		}{{"", plain, plainSessions}, {"_metrics", withMetrics, metricsSessions}} {
			s, sessions := v.s, v.sessions
			b.Run(tc.name+v.suffix, func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					req, body := chainRequest(tc.method, tc.target, tc.payload)
					w := &reuseWriter{header: http.Header{}}
					for i := 0; pb.Next(); i++ {
						if i%128 == 127 {
							// The access log's goroutine, as it runs in a server whose
							// requests wait on the network; in this loop it would run
							// only when preempted, and the buffer's growth would count.
							s.accessBuf.flush()
						}
						body.Reset([]byte(chainBody))
						if tc.authz != nil {
							req.Header["Authorization"] = tc.authz // the handler hides it from the plugin
						}
						w.reset()
						s.Handler().ServeHTTP(w, req)
						if w.status != http.StatusOK || string(w.body.Bytes()) != tc.want || w.header.Get("Content-Type") != tc.wantCT {
							b.Errorf("got %d %q %q", w.status, w.header.Get("Content-Type"), w.body.String())
							return
						}
					}
				})
				if tc.authz != nil && sessions.count() == 0 {
					b.Error("the Bearer case asked no SessionChecker")
				}
			})
		}
	}
}

// TestBenchmarkServer_chain runs the benchmark once, so that it cannot rot.
func TestBenchmarkServer_chain(t *testing.T) {
	r := testing.Benchmark(BenchmarkServer_chain)
	if r.N == 0 {
		t.Fatal("benchmark did not run")
	}
}

// chainServer returns a server over a host with the Rust echo and seed
// plugins, with the access log on (batched, as with -log-format json) and
// the client limiter, as cmd/server makes it, and obs as its observer when not nil.
func chainServer(b *testing.B, obs Observer) (*Server, *countSessions) {
	b.Helper()
	dir := b.TempDir()
	for _, p := range []string{"echo/echo.wasm", "seed/seed.wasm"} {
		data, err := os.ReadFile(filepath.Join("..", "plugins", p))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	h, err := host.New(context.Background(), host.Config{PluginDir: dir, Logger: zerolog.Nop(), CheckRoutes: CheckPluginRoutes})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close(context.Background()) })
	sessions := &countSessions{}
	s, err := NewServer(Config{
		Caller: h, Routes: h, HTTPKey: testHTTPKey, EncryptionKey: testEncKey, Sessions: sessions,
		// As cmd/server's root logger with -log-format json: a timestamp, the
		// node, and the access log batched into the same writer.
		Logger:    zerolog.New(discard{}).With().Timestamp().Str("node", "warden").Logger(),
		AccessLog: true, AccessLogOutput: discard{}, Observer: obs,
		Limiter: accounts.NewLimiter(accounts.LimiterConfig{}), // as cmd/server configures it
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, sessions
}

// chainRequest returns a request as net/http's server would hand it over,
// and the reader under its body, to be reset before each use.
func chainRequest(method, target string, payload bool) (*http.Request, *bytes.Reader) {
	body := bytes.NewReader(nil)
	req := httptest.NewRequest(method, target, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	if payload {
		req.Body = readCloser{body}
		req.ContentLength = int64(len(chainBody))
		req.Header.Set("Content-Type", contentTypeJSON)
	}
	req.Header.Set("User-Agent", "wrk")
	req.Header.Set("Accept", "*/*")
	return req, body
}

// readCloser is a reader whose Close does nothing.
type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// reuseWriter is a minimal http.ResponseWriter that a benchmark resets
// between requests instead of allocating a new one.
type reuseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *reuseWriter) reset() {
	clear(w.header)
	w.status = 0
	w.body.Reset()
}

func (w *reuseWriter) Header() http.Header { return w.header }

// SetWriteDeadline accepts the deadline, as net/http's writer does.
func (w *reuseWriter) SetWriteDeadline(time.Time) error { return nil }

func (w *reuseWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *reuseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// discard is an io.Writer that drops everything, like io.Discard, but
// without zerolog recognising it and skipping the encoding.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// countSessions is a SessionChecker that accepts every session and counts
// the checks.
type countSessions struct{ n atomic.Int64 }

func (c *countSessions) SessionValid(context.Context, session.Claims) error {
	c.n.Add(1)
	return nil
}

func (c *countSessions) count() int64 { return c.n.Load() }
