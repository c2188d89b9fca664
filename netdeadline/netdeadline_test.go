package netdeadline

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// Short settings for tests: a coarse deadline is at least 200 ms away and
// expires within 20 ms of passing.
const (
	testResolution = 20 * time.Millisecond
	testMinCoarse  = 200 * time.Millisecond
	// generous bounds an expiry that must happen, on a busy machine.
	generous = 10 * time.Second
)

// pair returns a wrapped server connection on a real loopback listener and
// the client's end.
func pair(t testing.TB) (*Listener, *Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := wrap(ln, testResolution, testMinCoarse)
	t.Cleanup(func() { _ = l.Close() })
	client := dial(t, ln.Addr().String())
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return l, c.(*Conn), client
}

// readErr reads one byte from c in a goroutine and returns its error and
// when it came.
func readErr(c net.Conn) <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		ch <- err
	}()
	return ch
}

// wait returns the error from ch, failing the test when none comes within
// generous.
func wait(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(generous):
		t.Fatal("the read or write never ended")
		return nil
	}
}

// TestCoarseReadDeadline checks that a far read deadline fails a pending
// read with os.ErrDeadlineExceeded, never before the deadline, and that
// the real connection held no deadline meanwhile.
func TestCoarseReadDeadline(t *testing.T) {
	_, c, _ := pair(t)
	start := time.Now()
	deadline := start.Add(2 * testMinCoarse)
	if err := c.SetReadDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	coarse := c.read.due != 0 && !c.read.real
	c.mu.Unlock()
	if !coarse {
		t.Fatalf("a deadline %v away was not kept coarse: %+v", 2*testMinCoarse, c.read)
	}
	err := wait(t, readErr(c))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read ended with %v, want os.ErrDeadlineExceeded", err)
	}
	if now := time.Now(); now.Before(deadline) {
		t.Fatalf("read failed %v before its deadline", deadline.Sub(now))
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("error %v is not a net.Error timeout, as net/http expects", err)
	}
}

// TestCoarseWriteDeadline checks that a far write deadline fails a write
// blocked by a client that does not read.
func TestCoarseWriteDeadline(t *testing.T) {
	_, c, _ := pair(t)
	deadline := time.Now().Add(2 * testMinCoarse)
	if err := c.SetWriteDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() {
		buf := make([]byte, 1<<20)
		for {
			if _, err := c.Write(buf); err != nil {
				ch <- err
				return
			}
		}
	}()
	err := wait(t, ch)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write ended with %v, want os.ErrDeadlineExceeded", err)
	}
	if now := time.Now(); now.Before(deadline) {
		t.Fatalf("write failed %v before its deadline", deadline.Sub(now))
	}
}

// TestPastDeadlineAbortsAtOnce checks that a deadline in the past reaches
// the real connection and ends a pending read, as net/http's
// abortPendingRead needs, and that clearing it lets reads work again.
func TestPastDeadlineAbortsAtOnce(t *testing.T) {
	_, c, client := pair(t)
	ch := readErr(c)
	time.Sleep(testResolution) // let the read block (either order passes)
	if err := c.SetReadDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, ch); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read ended with %v, want os.ErrDeadlineExceeded", err)
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, readErr(c)); err != nil {
		t.Fatalf("read after clearing the deadline: %v", err)
	}
}

// TestLaterDeadlineReplacesExpired checks that after the listener expired
// a deadline, setting a new far one clears the expiry: reads work until
// the new deadline.
func TestLaterDeadlineReplacesExpired(t *testing.T) {
	_, c, client := pair(t)
	if err := c.SetReadDeadline(time.Now().Add(testMinCoarse)); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, readErr(c)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("first read ended with %v, want os.ErrDeadlineExceeded", err)
	}
	if err := c.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write([]byte("y")); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, readErr(c)); err != nil {
		t.Fatalf("read under the new deadline: %v", err)
	}
}

// TestMovedDeadlineDoesNotFire checks that a coarse deadline moved later
// before it passed does not expire the connection at the old time.
func TestMovedDeadlineDoesNotFire(t *testing.T) {
	_, c, client := pair(t)
	if err := c.SetReadDeadline(time.Now().Add(testMinCoarse)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ch := readErr(c)
	time.Sleep(3 * testMinCoarse) // past the first deadline
	select {
	case err := <-ch:
		t.Fatalf("read ended with %v under a deadline an hour away", err)
	default:
	}
	if _, err := client.Write([]byte("z")); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, ch); err != nil {
		t.Fatalf("read: %v", err)
	}
}

// TestNearDeadlineIsReal checks that a deadline nearer than the minimum
// goes to the real connection (exact, not a tick late).
func TestNearDeadlineIsReal(t *testing.T) {
	_, c, _ := pair(t)
	deadline := time.Now().Add(testMinCoarse / 4)
	if err := c.SetReadDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	s := c.read
	c.mu.Unlock()
	if s.due != 0 || !s.real {
		t.Fatalf("near deadline kept coarse: %+v", s)
	}
	if err := wait(t, readErr(c)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read ended with %v, want os.ErrDeadlineExceeded", err)
	}
	if now := time.Now(); now.Before(deadline) {
		t.Fatalf("read failed %v before its deadline", deadline.Sub(now))
	}
}

// TestCloseForgets checks that closed connections leave the listener's
// set, and that Close stops the listener's goroutine.
func TestCloseForgets(t *testing.T) {
	l, c, client := pair(t)
	if n := l.open(); n != 1 {
		t.Fatalf("%d open connections, want 1", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	_ = c.Close() // a second Close must not panic or count twice
	if n := l.open(); n != 0 {
		t.Fatalf("%d open connections after Close, want 0", n)
	}
	if _, err := io.ReadAll(client); err != nil {
		t.Fatalf("client read after server Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Accept(); err == nil {
		t.Fatal("Accept after Close succeeded")
	}
}

// TestCloseWriteAndReadFrom checks the two optional interfaces net/http
// looks for on its connections.
func TestCloseWriteAndReadFrom(t *testing.T) {
	_, c, client := pair(t)
	if _, err := c.ReadFrom(io.LimitReader(zeros{}, 3)); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(client)
	if err != nil || len(got) != 3 {
		t.Fatalf("client read %d bytes, %v; want 3 then EOF", len(got), err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
