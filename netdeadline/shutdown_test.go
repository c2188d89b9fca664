package netdeadline

import (
	"errors"
	"os"
	"testing"
	"time"
)

// TestDeadlineAfterListenerClose: http.Server.Shutdown closes the listener
// first and then waits for the connections in flight, which it does not
// close. A slow client's far deadline on such a connection must still
// expire, or the client holds the connection (and the shutdown) until the
// shutdown's own timeout.
func TestDeadlineAfterListenerClose(t *testing.T) {
	l, c, _ := pair(t)
	if err := c.SetReadDeadline(time.Now().Add(2 * testMinCoarse)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, readErr(c)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read ended with %v, want os.ErrDeadlineExceeded", err)
	}
}
