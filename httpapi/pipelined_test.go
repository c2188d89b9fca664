package httpapi

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
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
			c, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			req := "POST /v2/rpc/echo?unwrap&http_key=" + testHTTPKey + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
			if _, err := io.WriteString(c, req+"POST /v2/rpc/echo HTTP/1.1\r\nHost: x\r\n"); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != "hi" {
				t.Fatalf("first request: %d %q", resp.StatusCode, body)
			}
			_ = c.SetReadDeadline(time.Now().Add(idleTimeout / 2))
			_, err = io.ReadAll(br) // net/http closes it, with no response or a bare 408
			cut := time.Since(start)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the buffered half request was never cut off (waited %s)", cut)
			}
			if cut < timeout {
				t.Fatalf("cut off after %s, before the %s timeout", cut, timeout)
			}
		})
	}
}
