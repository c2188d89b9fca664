package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The HTTP hardening tests attack a real server on a real listener and
// check after each attack that it still answers: see responsive.

// slack bounds how long a hardening test lets the server take to answer a
// probe or to cut a slow client off: a starvation bound, not a speed one. A
// loaded machine may be seconds late; a server that never answers or never
// cuts off still fails.
const slack = 10 * time.Second

// TestServer_slowloris opens connections that send their headers a byte
// every 5ms: each must be cut off (with net/http's bare 400, or none) once
// the read-header timeout has passed, while other clients are served normally
// throughout. The upper bounds are slack.
func TestServer_slowloris(t *testing.T) {
	const timeout = 500 * time.Millisecond
	s := startServer(t, append(dataArgs(t, "../../plugins"), "-read-header-timeout", timeout.String(), "-access-log=false")...)
	addr := hostPort(t, s.URL)
	const slow = 20
	cutAfter := make(chan time.Duration, slow)
	errs := make(chan error, slow)
	for range slow {
		go func() {
			d, err := slowClient(addr, timeout+slack)
			if err != nil {
				errs <- err
				return
			}
			cutAfter <- d
		}()
	}
	// Normal clients, each on a fresh connection, while the slow ones drip.
	served, deadline := 0, time.Now().Add(timeout+timeout/2)
	for time.Now().Before(deadline) {
		start := time.Now()
		if err := probe(s.URL); err != nil {
			t.Fatalf("during slowloris: %v", err)
		}
		if d := time.Since(start); d > slack {
			t.Fatalf("during slowloris a probe took %s", d)
		}
		served++
	}
	for range slow {
		select {
		case err := <-errs:
			t.Fatal(err)
		case d := <-cutAfter:
			if d < timeout*9/10 || d > timeout+slack {
				t.Errorf("slow client cut off after %s, want about %s", d, timeout)
			}
		}
	}
	t.Logf("%d slow clients cut off; %d probes served meanwhile", slow, served)
	responsive(t, s)
}

// slowClient sends a request's headers one byte every 5ms and returns how
// long the connection lasted until the server closed it, with nothing or
// net/http's bare 400 as an answer. It fails on any other answer or error,
// or if the server keeps the connection for longer than limit.
func slowClient(addr string, limit time.Duration) (time.Duration, error) {
	// Before the dial: the server's timer starts when it accepts, which
	// can be long before this goroutine runs again on a busy machine.
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		req := "GET /healthcheck HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 1000)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if _, err := c.Write([]byte{req[i%len(req)]}); err != nil {
				return
			}
		}
	}()
	_ = c.SetReadDeadline(start.Add(limit))
	b, err := io.ReadAll(c)
	d := time.Since(start)
	const want = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return d, fmt.Errorf("slow client still connected after %s", d)
	case err == nil && len(b) > 0 && string(b) != want, !strings.HasPrefix(want, string(b)):
		return d, fmt.Errorf("slow client got %q after %s, want nothing or Go's bare 400", b, d)
	case err != nil && !errors.Is(err, syscall.ECONNRESET):
		return d, fmt.Errorf("slow client: %v after %s", err, d)
	}
	// The server closed the connection: cleanly, or with a reset because
	// the client's latest bytes were unread, which may lose the 400.
	// (net/http answers nothing when the deadline interrupts a bare read,
	// and 400 when it interrupts the parsing of a header line.)
	return d, nil
}

// TestServer_oversizedHeaders sends request headers under and over the
// 32 KiB limit, as one header and as many: over it, the server answers 431
// and closes the connection.
func TestServer_oversizedHeaders(t *testing.T) {
	s := startServer(t, append(dataArgs(t, "../../plugins"), "-access-log=false")...)
	addr := hostPort(t, s.URL)
	tests := []struct {
		name       string
		header     string
		wantStatus int
	}{
		{"OK", "X-Big: " + strings.Repeat("a", 16<<10) + "\r\nConnection: close\r\n", 200},
		{"ErrOneHeader", "X-Big: " + strings.Repeat("a", 64<<10) + "\r\n", 431},
		{"ErrManyHeaders", strings.Repeat("X-Many: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 2000), 431},
		{"ErrOneMebibyte", "X-Big: " + strings.Repeat("a", 1<<20) + "\r\n", 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "GET /healthcheck HTTP/1.1\r\nHost: x\r\n" + tt.header + "\r\n"
			res, err := rawExchange(addr, raw, false)
			if err != nil {
				t.Fatal(err)
			}
			if res[0].StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", res[0].StatusCode, tt.wantStatus)
			}
			responsive(t, s)
		})
	}
}

// TestServer_lyingContentLength sends bodies whose length differs from
// their Content-Length, to kv_put so that a call would leave a row behind.
// A body that ends (the client half-closes) before its Content-Length
// fails with a complete 400 answer (code 3) and no call; the bytes past a short
// Content-Length are never part of the payload: net/http reads them as the
// next request on the connection, which is malformed (400, then the
// connection closes). Two different Content-Length headers are refused
// with 400 before any handler runs.
//
// # Notes
//
// The long body is not half-closed: net/http takes a client's EOF after a
// complete request as the client going away and cancels the call (499).
func TestServer_lyingContentLength(t *testing.T) {
	s := startServer(t, append(dataArgs(t, "../../plugins"), "-access-log=false")...)
	addr := hostPort(t, s.URL)
	const put = "POST /v2/rpc/kv_put?unwrap&http_key=" + testHTTPKey + " HTTP/1.1\r\nHost: x\r\n"
	tests := []struct {
		name       string
		raw        string
		closeWrite bool     // half-close after raw: the short body's end
		want       []string // status and body of each response, in order
		present    map[string]bool
	}{{
		name:       "ErrShortBody",
		raw:        put + "Content-Length: 100\r\n\r\n" + `{"key":"short","value":"v"}`,
		closeWrite: true,
		want:       []string{`400 {"error":"request body shorter than its Content-Length","message":"request body shorter than its Content-Length","code":3}`},
		present:    map[string]bool{"short": false},
	}, {
		name: "LongBody",
		raw: put + "Content-Length: 26\r\n\r\n" + `{"key":"long","value":"v"}` +
			`{"key":"extra","value":"v"}` + "\r\n\r\n",
		want:    []string{"200 {}", "400 400 Bad Request"},
		present: map[string]bool{"long": true, "extra": false},
	}, {
		name:    "ErrTwoLengths",
		raw:     put + "Content-Length: 27\r\nContent-Length: 20\r\n\r\n" + `{"key":"twice","value":"v"}`,
		want:    []string{"400 400 Bad Request"},
		present: map[string]bool{"twice": false},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := rawExchange(addr, tt.raw, tt.closeWrite)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res {
				b, err := io.ReadAll(r.Body)
				if err != nil {
					t.Fatalf("truncated response: %v", err)
				}
				got = append(got, fmt.Sprintf("%d %s", r.StatusCode, bytes.TrimSpace(b)))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("responses:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for key, want := range tt.present {
				res := do(t, "POST", s.URL+"/v2/rpc/kv_get?unwrap&http_key="+testHTTPKey, `{"key":"`+key+`"}`, nil)
				if got := res.Status == 200; got != want {
					t.Errorf("key %q present = %v (%d %s), want %v", key, got, res.Status, res.Body, want)
				}
			}
			responsive(t, s)
		})
	}
}

// rawExchange writes raw on a new connection (half-closing it after when
// closeWrite is set) and reads responses until the server closes it. It
// fails if no complete response came back.
func rawExchange(addr, raw string, closeWrite bool) ([]*http.Response, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { // the server may answer before it has read everything
		if _, err := io.WriteString(c, raw); err == nil && closeWrite {
			_ = c.(*net.TCPConn).CloseWrite()
		}
	}()
	br := bufio.NewReader(c)
	var out []*http.Response
	for {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			if len(out) == 0 {
				return nil, fmt.Errorf("no response: %w", err)
			}
			return out, nil
		}
		b, err := io.ReadAll(res.Body)
		if err != nil {
			return nil, fmt.Errorf("response %d truncated: %w", len(out)+1, err)
		}
		res.Body = io.NopCloser(bytes.NewReader(b))
		out = append(out, res)
	}
}

// TestServer_gzipBody posts a gzip bomb (64 MiB of zeros in about 64 KiB)
// with each spelling of Content-Encoding: the server decompresses nothing
// and refuses every encoding but identity with 400 code 3, so no plugin
// ever sees compressed bytes.
func TestServer_gzipBody(t *testing.T) {
	s := startServer(t, append(dataArgs(t, "../../plugins"), "-access-log=false")...)
	// A gzip stream may hold many members, which decompressors (Go's
	// included) concatenate: 64 copies of 1 MiB of zeros make 64 MiB.
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	if _, err := zw.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	bomb := bytes.NewBuffer(bytes.Repeat(member.Bytes(), 64))
	if zr, err := gzip.NewReader(bytes.NewReader(bomb.Bytes())); err != nil {
		t.Fatal(err)
	} else if n, err := io.Copy(io.Discard, zr); err != nil || n != 64<<20 {
		t.Fatalf("bomb decompresses to %d bytes: %v", n, err)
	}
	const refused = `{"error":"unsupported content encoding","message":"unsupported content encoding","code":3}`
	tests := []struct {
		name, encoding, body string
		wantStatus           int
		wantBody             string
	}{
		{"ErrGzip", "gzip", bomb.String(), 400, refused},
		{"ErrGzipUpperCase", "GZIP", bomb.String(), 400, refused},
		{"ErrDeflate", "deflate", bomb.String(), 400, refused},
		{"ErrBrotli", "br", "x", 400, refused},
		{"Identity", "identity", "plain", 200, "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, "POST", s.URL+"/v2/rpc/echo?unwrap&http_key="+testHTTPKey, tt.body, map[string]string{"Content-Encoding": tt.encoding})
			if res.Status != tt.wantStatus || res.Body != tt.wantBody {
				t.Fatalf("got %d %.200s, want %d %s", res.Status, res.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	t.Logf("gzip bomb: %d bytes for %d MiB", bomb.Len(), 64)
	responsive(t, s)
}

// TestServer_idleConnections holds 2000 connections open: half never send
// a byte, half sent one request and wait kept alive. Meanwhile a normal
// client is served promptly, and the kept-alive connections still work;
// once they are closed the server's goroutines return to what they were.
func TestServer_idleConnections(t *testing.T) {
	n := raiseFileLimit(t, 2000)
	s := startServer(t, append(dataArgs(t, "../../plugins"), "-access-log=false")...)
	responsive(t, s)
	before := runtime.NumGoroutine()
	conns := openIdleConns(t, hostPort(t, s.URL), n)
	held := runtime.NumGoroutine() - before
	for range 20 {
		start := time.Now()
		responsive(t, s)
		if d := time.Since(start); d > slack {
			t.Fatalf("with %d idle connections a probe took %s", n, d)
		}
	}
	for i := 1; i < n; i += 100 { // kept-alive connections still answer
		if err := keepAliveRequest(conns[i]); err != nil {
			t.Fatalf("kept-alive connection %d: %v", i, err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+50 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after closing %d connections, %d before", runtime.NumGoroutine(), n, before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d idle connections held %d goroutines; released", n, held)
	responsive(t, s)
}

// openIdleConns opens n connections from 16 goroutines, the odd ones after
// one kept-alive request, and closes them when the test ends.
func openIdleConns(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				conns[i], errs[i] = openIdle(addr, i%2 == 1)
			}
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("opening %d connections: %v", n, err)
	}
	return conns
}

// openIdle opens a connection; with request set it sends one kept-alive
// request on it and reads the answer first.
func openIdle(addr string, request bool) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil || !request {
		return c, err
	}
	return c, keepAliveRequest(c)
}

// keepAliveRequest sends GET /healthcheck on c and reads a 200 answer.
func keepAliveRequest(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, "GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	// The answer is small: reading it whole leaves nothing buffered.
	res, err := http.ReadResponse(bufio.NewReaderSize(c, 4096), nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, res.Body)
	if err == nil && res.StatusCode != 200 {
		err = fmt.Errorf("status %d", res.StatusCode)
	}
	return err
}

// raiseFileLimit makes room for want client connections and their server
// ends in this process, raising the soft limit on open files up to the hard
// one, and returns how many connections fit (want, or fewer if the hard
// limit is lower; the test is skipped below 1000).
func raiseFileLimit(t *testing.T, want int) int {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	need := uint64(2*want + 512)
	if lim.Cur < need && lim.Cur < lim.Max {
		old := lim
		lim.Cur = min(need, lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
	}
	n := min(want, int(lim.Cur-512)/2)
	if n < 1000 {
		t.Skipf("open file limit %d leaves room for %d connections", lim.Cur, n)
	}
	return n
}

// responsive checks that the server still answers its healthcheck and an
// echo RPC.
func responsive(t *testing.T, s *server) {
	t.Helper()
	if err := probe(s.URL); err != nil {
		t.Fatalf("server not responsive: %v", err)
	}
}

// probe calls the healthcheck and the echo RPC on fresh connections; it
// does not need a *testing.T, for use in goroutines.
func probe(base string) error {
	client := &http.Client{Timeout: slack, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, c := range []struct{ method, path, body, want string }{
		{"GET", "/healthcheck", "", "{}"},
		{"POST", "/v2/rpc/echo?unwrap&http_key=" + testHTTPKey, "ping", "ping"},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 || string(b) != c.want {
			return fmt.Errorf("%s %s: %d %q %v", c.method, c.path, res.StatusCode, b, err)
		}
	}
	return nil
}

// hostPort returns the host:port of a base URL.
func hostPort(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestServer_readHeaderTimeoutConfig checks -read-header-timeout and its
// variable WARDEN_READ_HEADER_TIMEOUT.
func TestServer_readHeaderTimeoutConfig(t *testing.T) {
	tests := []struct {
		name, flag, env string
		want            time.Duration
		wantErr         bool
	}{
		{name: "Default", want: 5 * time.Second},
		{name: "Flag", flag: "250ms", want: 250 * time.Millisecond},
		{name: "Variable", env: "2s", want: 2 * time.Second},
		{name: "FlagOverVariable", flag: "1s", env: "2s", want: time.Second},
		{name: "ErrZero", flag: "0s", wantErr: true},
		{name: "ErrNegative", env: "-1s", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args []string
			if tt.flag != "" {
				args = []string{"-read-header-timeout", tt.flag}
			}
			getenv := func(k string) string {
				if k == "WARDEN_READ_HEADER_TIMEOUT" {
					return tt.env
				}
				return ""
			}
			c, err := parseConfig(args, getenv, io.Discard)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseConfig succeeded with %s, want an error", c.HeaderTimeout)
				}
				return
			}
			if err != nil || c.HeaderTimeout != tt.want {
				t.Fatalf("got %s, %v; want %s", c.HeaderTimeout, err, tt.want)
			}
		})
	}
}
