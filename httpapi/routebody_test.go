package httpapi

import (
	"bufio"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestServer_pluginRoute_slowBodyRestartsWriteDeadline: a plugin route
// whose body takes longer than the write timeout, but less than the read
// timeout, is still answered, as an RPC is: the write deadline restarts
// once the body is read, so that a slow upload does not eat into the
// call's time or its answer's. Over a real listener, with a real plugin
// route (web.wasm's POST /created) and a call timeout that makes the write
// timeout writeMargin plus a little.
func TestServer_pluginRoute_slowBodyRestartsWriteDeadline(t *testing.T) {
	s, _ := dispatchServerWith(t, Config{CallTimeout: 100 * time.Millisecond}, "../host/testdata/web.wasm")
	c := dialServer(t, s)
	if _, err := io.WriteString(c, "POST /created HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\na"); err != nil {
		t.Fatal(err)
	}
	// Past the write timeout (5.1 s from the headers), within the read
	// timeout (10 s from the first byte).
	time.Sleep(s.timeouts.Write + time.Second)
	if _, err := io.WriteString(c, "b"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(readTimeout))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer after a slow body: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d, want 201", resp.StatusCode)
	}
}
