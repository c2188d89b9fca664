package httpapi

import (
	"bufio"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/warden-rpc/warden/netdeadline"
)

// TestServer_coarseHeaderTimeout checks the read-header timeout on the
// real listener when it is long enough to be kept coarse by netdeadline:
// a client that sends half its headers is cut off, not before the timeout
// and not long after, while a keep-alive client is served request after
// request on one connection.
func TestServer_coarseHeaderTimeout(t *testing.T) {
	const timeout = netdeadline.MinCoarse + 500*time.Millisecond
	s := serve(t, Config{ReadHeaderTimeout: timeout})
	start := time.Now() // before the dial: the server's timer starts at the accept
	slow := dialServer(t, s)
	if _, err := io.WriteString(slow, "POST /v2/rpc/echo HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}

	// Meanwhile a keep-alive client: three requests on one connection.
	ka := dialServer(t, s)
	br := bufio.NewReader(ka)
	for i := range 3 {
		if _, err := io.WriteString(ka, rawEcho); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		readEcho(t, br, fmt.Sprintf("response %d", i))
	}

	_ = slow.SetReadDeadline(time.Now().Add(timeout + 10*time.Second))
	checkCutOff(t, slow, start, timeout, "the half-sent request")
}
