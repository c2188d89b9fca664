package netdeadline

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// Timeouts for the state tests: coarse ones are at least testMinCoarse,
// long is one that must not be the one that fires.
const (
	testTimeout = 400 * time.Millisecond
	long        = 20 * time.Second
	// lag is how early a coarse timeout may fire when the listener's
	// goroutine falls behind its ticks on a busy machine.
	lag = 100 * time.Millisecond
)

// serveHTTP serves h over a real loopback listener that applies to as
// WrapHTTP does, with the tests' resolution, and returns its address.
func serveHTTP(t *testing.T, to Timeouts, h http.HandlerFunc) (string, *Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := wrap(ln, testResolution, testMinCoarse)
	l.setTimeouts(to)
	srv := &http.Server{Handler: h, ConnState: l.ConnState}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), l
}

// ok answers "ok".
func ok(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }

// dial connects to addr.
func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip sends a GET on c and checks the answer is "ok".
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}

// closedAfter waits for the server to close c and returns how long after
// start it did, failing when it keeps c for generous.
func closedAfter(t *testing.T, c net.Conn, start time.Time) time.Duration {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(generous))
	_, err := io.ReadAll(c) // nothing, or net/http's bare 400 or 408
	d := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection for %s", d)
	}
	return d
}

// within fails unless d is at least min (less lag) and less than max.
func within(t *testing.T, what string, d, min, max time.Duration) {
	t.Helper()
	if d < min-lag || d >= max {
		t.Errorf("%s after %s, want from %s to %s", what, d, min, max)
	}
}

// TestHTTP_headerTimeout: a connection that sends nothing, and one that
// sends half its headers, are closed after ReadHeader, a coarse timeout.
func TestHTTP_headerTimeout(t *testing.T) {
	addr, _ := serveHTTP(t, Timeouts{ReadHeader: testTimeout, Read: long, Write: long, Idle: long}, ok)
	silent, half := dial(t, addr), dial(t, addr)
	start := time.Now()
	if _, err := io.WriteString(half, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	within(t, "silent connection closed", closedAfter(t, silent, start), testTimeout, long/2)
	within(t, "half-sent request closed", closedAfter(t, half, start), testTimeout, long/2)
}

// TestHTTP_headerTimeoutAfterKeepAlive: on a kept-alive connection, the
// next request's first bytes start its ReadHeader timeout; the Idle one,
// far longer, must not be what cuts a client that sends half its headers.
func TestHTTP_headerTimeoutAfterKeepAlive(t *testing.T) {
	addr, _ := serveHTTP(t, Timeouts{ReadHeader: testTimeout, Read: long, Write: long, Idle: long}, ok)
	c := dial(t, addr)
	br := bufio.NewReader(c)
	roundTrip(t, c, br)
	roundTrip(t, c, br)
	time.Sleep(2 * testTimeout) // idle longer than ReadHeader: not cut
	roundTrip(t, c, br)
	start := time.Now()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHo"); err != nil {
		t.Fatal(err)
	}
	within(t, "half-sent second request closed", closedAfter(t, c, start), testTimeout, long/2)
}

// TestHTTP_headerTimeoutPipelined: a request whose first byte came with
// the previous one (read ahead by net/http while the handler ran) still
// gets the ReadHeader timeout, not the Idle one.
func TestHTTP_headerTimeoutPipelined(t *testing.T) {
	addr, _ := serveHTTP(t, Timeouts{ReadHeader: testTimeout, Read: long, Write: long, Idle: long},
		func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(50 * time.Millisecond) // let the read-ahead take the next byte
			ok(w, r)
		})
	c := dial(t, addr)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\nG"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	start := time.Now()
	if _, err := io.WriteString(c, "ET / HTTP/1.1\r\nHo"); err != nil {
		t.Fatal(err)
	}
	within(t, "half-sent pipelined request closed", closedAfter(t, c, start), testTimeout, long/2)
}

// TestHTTP_idleTimeout: a kept-alive connection with no next request is
// closed after Idle.
func TestHTTP_idleTimeout(t *testing.T) {
	addr, _ := serveHTTP(t, Timeouts{ReadHeader: long, Read: long, Write: long, Idle: testTimeout}, ok)
	c := dial(t, addr)
	roundTrip(t, c, bufio.NewReader(c))
	start := time.Now()
	within(t, "idle connection closed", closedAfter(t, c, start), testTimeout, long/2)
}

// TestHTTP_readTimeout: a body that stops coming fails the handler's read
// with os.ErrDeadlineExceeded after Read, counted from the request's
// first byte.
func TestHTTP_readTimeout(t *testing.T) {
	got := make(chan error, 1)
	addr, _ := serveHTTP(t, Timeouts{ReadHeader: long, Read: testTimeout, Write: long, Idle: long},
		func(_ http.ResponseWriter, r *http.Request) {
			_, err := io.ReadAll(r.Body)
			got <- err
		})
	c := dial(t, addr)
	start := time.Now()
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("body read ended with %v, want os.ErrDeadlineExceeded", err)
		}
		within(t, "body read cut", time.Since(start), testTimeout, long/2)
	case <-time.After(generous):
		t.Fatal("the body read never ended")
	}
}

// TestHTTP_writeTimeout: a handler that answers after Write gets no
// answer through: the connection is closed instead.
func TestHTTP_writeTimeout(t *testing.T) {
	addr, _ := serveHTTP(t, Timeouts{ReadHeader: long, Read: long, Write: testTimeout, Idle: long},
		func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(testTimeout + 3*lag)
			ok(w, r)
		})
	c := dial(t, addr)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(generous))
	if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
		t.Fatalf("got %d past the write timeout, want the connection closed", resp.StatusCode)
	}
}

// TestHTTP_handlerOutlivesReadTimeout: once a request is read, net/http's
// read-ahead runs with no deadline, as with http.Server's own ReadTimeout;
// a handler that takes longer than Read is not cancelled and answers.
func TestHTTP_handlerOutlivesReadTimeout(t *testing.T) {
	addr, _ := serveHTTP(t, Timeouts{ReadHeader: testTimeout, Read: testTimeout, Write: long, Idle: long},
		func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
				http.Error(w, "cancelled", http.StatusServiceUnavailable)
			case <-time.After(testTimeout + 3*lag):
				ok(w, r)
			}
		})
	c := dial(t, addr)
	roundTrip(t, c, bufio.NewReader(c))
}

// TestHTTP_shortTimeout: a timeout under MinCoarse uses the real
// connection's deadline, and is on time as well.
func TestHTTP_shortTimeout(t *testing.T) {
	const short = testMinCoarse / 2
	addr, l := serveHTTP(t, Timeouts{ReadHeader: short, Read: long, Write: long, Idle: long}, ok)
	if !l.precise {
		t.Fatal("a timeout under the coarse minimum did not make the listener precise")
	}
	c := dial(t, addr)
	start := time.Now()
	within(t, "silent connection closed", closedAfter(t, c, start), short, long/2)
}

// TestHTTP_hijacked: a hijacked connection has no timeout any more.
func TestHTTP_hijacked(t *testing.T) {
	addr, _ := serveHTTP(t, Timeouts{ReadHeader: testTimeout, Read: testTimeout, Write: testTimeout, Idle: testTimeout},
		func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			buf := make([]byte, 5)
			if _, err := io.ReadFull(conn, buf); err != nil { // sent after every timeout
				return
			}
			_, _ = conn.Write(buf)
		})
	c := dial(t, addr)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(testTimeout + 3*lag)
	if _, err := io.WriteString(c, "hello"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(generous))
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "hello" {
		t.Fatalf("hijacked connection answered %q, %v; want hello", b, err)
	}
}

// TestHTTP_zeroDeadlinesBetweenRequests: net/http's zero read deadlines
// while a connection waits for a request keep the listener's timeout, and
// an explicit one replaces it.
func TestHTTP_zeroDeadlinesBetweenRequests(t *testing.T) {
	l, c, _ := pair(t)
	l.setTimeouts(Timeouts{ReadHeader: testTimeout, Read: long, Write: long, Idle: long})
	c.mu.Lock()
	c.phase.Store(phaseIdle)
	c.stateDeadline(&c.read, l.stamp(), testTimeout)
	c.mu.Unlock()
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	kept := c.read.due != 0 && c.read.state
	c.mu.Unlock()
	if !kept {
		t.Fatal("a zero read deadline while waiting cleared the idle timeout")
	}
	start := time.Now()
	if err := wait(t, readErr(c)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read ended with %v, want os.ErrDeadlineExceeded", err)
	}
	within(t, "idle read cut", time.Since(start), testTimeout-testResolution, long/2)
	// Active: net/http's zero after reading ahead clears it.
	c.mu.Lock()
	c.phase.Store(phaseActive)
	c.stateDeadline(&c.read, l.stamp(), testTimeout)
	c.mu.Unlock()
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	cleared := c.read.due == 0 && !c.read.real
	c.mu.Unlock()
	if !cleared {
		t.Fatal("a zero read deadline on an active connection did not clear it")
	}
}
