package httpapi

import (
	"bufio"
	"io"
	"testing"
	"time"

	"github.com/warden-rpc/warden/netdeadline"
)

// TestServer_headerTimeoutBufferedRequest: on the real server, a client
// that sends a whole RPC and the first headers of the next one in one
// write, then nothing, is cut by the read-header timeout, not by the
// minute of the idle timeout; with a coarse timeout and a precise one.
func TestServer_headerTimeoutBufferedRequest(t *testing.T) {
	for _, timeout := range []time.Duration{netdeadline.MinCoarse + 500*time.Millisecond, netdeadline.MinCoarse / 2} {
		t.Run(timeout.String(), func(t *testing.T) {
			s := serve(t, Config{ReadHeaderTimeout: timeout})
			c := dialServer(t, s)
			start := time.Now()
			if _, err := io.WriteString(c, rawEcho+"POST /v2/rpc/echo HTTP/1.1\r\nHost: x\r\n"); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			readEcho(t, br, "first request")
			_ = c.SetReadDeadline(time.Now().Add(idleTimeout / 2))
			checkCutOff(t, br, start, timeout, "the buffered half request")
		})
	}
}
