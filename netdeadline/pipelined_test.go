package netdeadline

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestHTTP_headerTimeoutBufferedRequest: a client that sends a whole
// request and the first headers of the next in one write, then nothing,
// has its second request cut after ReadHeader, as http.Server's own
// timeouts would (they start once net/http's Peek of the next request
// returns), not after Idle: the next request's bytes are already in
// net/http's buffer, so no read on the connection marks its start. A
// coarse timeout, one under the coarse minimum (precise), and ReadHeader
// alone, with no Idle timeout to wait for.
func TestHTTP_headerTimeoutBufferedRequest(t *testing.T) {
	for _, tc := range []struct {
		name      string
		minCoarse time.Duration
		to        Timeouts
	}{
		{"Coarse", testMinCoarse, Timeouts{ReadHeader: testTimeout, Read: long, Write: long, Idle: long}},
		{"Precise", 2 * long, Timeouts{ReadHeader: testTimeout, Read: long, Write: long, Idle: long}},
		// No Idle timeout: http.Server's ReadHeader still starts after its peek.
		{"HeaderOnly", testMinCoarse, Timeouts{ReadHeader: testTimeout}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			l := wrap(ln, testResolution, tc.minCoarse)
			l.setTimeouts(tc.to)
			srv := &http.Server{Handler: http.HandlerFunc(ok), ConnState: l.ConnState}
			go func() { _ = srv.Serve(l) }()
			t.Cleanup(func() { _ = srv.Close() })

			c := dial(t, ln.Addr().String())
			start := time.Now()
			if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			within(t, "buffered half request closed", closedAfter(t, c, start), testTimeout, long/2)
		})
	}
}

// TestHTTP_readTimeoutBufferedRequest: a request that came whole with the
// previous one, whose handler ran longer than Read, has its Read timeout
// counted from its own start, not from the previous request's: its body,
// sent a moment later, is read, not cut at once.
//
// The Read timeout is longer than the other tests' so that the margin,
// between the client's body and the timeout counted from the second
// request's start, holds on a busy machine (at 400 ms it failed 2 runs in
// 80 under load); a timeout counted from the first request's start has
// passed already when the second request starts.
func TestHTTP_readTimeoutBufferedRequest(t *testing.T) {
	const read = 2 * time.Second
	addr, _ := serveHTTP(t, Timeouts{ReadHeader: long, Read: read, Write: long, Idle: long},
		func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				time.Sleep(read + 3*lag)
			}
			b, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusRequestTimeout)
				return
			}
			_, _ = w.Write(b)
		})
	c := dial(t, addr)
	if _, err := io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for i, want := range []string{"", "hi"} {
		if i == 1 { // the body, once the handler waits for it
			time.Sleep(2 * lag)
			if _, err := io.WriteString(c, "hi"); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != want {
			t.Fatalf("response %d: %d %q, want 200 %q", i, resp.StatusCode, body, want)
		}
	}
}
