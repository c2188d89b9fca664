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

// TestServer_coarseHeaderTimeout checks the read-header timeout on the
// real listener when it is long enough to be kept coarse by netdeadline:
// a client that sends half its headers is cut off, not before the timeout
// and not long after, while a keep-alive client is served request after
// request on one connection.
func TestServer_coarseHeaderTimeout(t *testing.T) {
	const timeout = netdeadline.MinCoarse + 500*time.Millisecond
	s := serve(t, Config{ReadHeaderTimeout: timeout})
	addr := strings.TrimPrefix(s.URL(), "http://")

	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	if _, err := io.WriteString(slow, "POST /v2/rpc/echo HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}

	// Meanwhile a keep-alive client: three requests on one connection.
	ka, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ka.Close()
	br := bufio.NewReader(ka)
	for i := range 3 {
		req := "POST /v2/rpc/echo?unwrap&http_key=" + testHTTPKey + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
		if _, err := io.WriteString(ka, req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "hi" {
			t.Fatalf("response %d: %d %q", i, resp.StatusCode, body)
		}
	}

	_ = slow.SetReadDeadline(time.Now().Add(timeout + 10*time.Second))
	_, err = io.ReadAll(slow) // net/http closes it, with no response or a bare 400
	cut := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the half-sent request was never cut off (waited %s)", cut)
	}
	if cut < timeout {
		t.Fatalf("cut off after %s, before the %s timeout", cut, timeout)
	}
}
