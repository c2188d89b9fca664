package httpapi

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// slowReader returns its bytes after a pause, as a slow upload does.
type slowReader struct {
	r     io.Reader
	pause time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.pause)
	return s.r.Read(p)
}

func (*slowReader) Close() error { return nil }

// deadlineWriter records the write deadlines set through
// http.ResponseController.
type deadlineWriter struct {
	reuseWriter
	deadlines []time.Time
}

func (w *deadlineWriter) SetWriteDeadline(t time.Time) error {
	w.deadlines = append(w.deadlines, t)
	return nil
}

// TestServer_RPC_slowBodyRestartsWriteDeadline checks that a body slower
// than slowBody restarts the write deadline once it is read, so that the
// call still has its whole time and the write its margin.
func TestServer_RPC_slowBodyRestartsWriteDeadline(t *testing.T) {
	caller := echo()
	s := serve(t, Config{Caller: caller})
	req := httptest.NewRequest("POST", "/v2/rpc/echo?unwrap&http_key="+testHTTPKey, nil)
	req.Body = &slowReader{r: bytes.NewReader([]byte("x")), pause: 2 * slowBody}
	req.ContentLength = 1
	w := &deadlineWriter{reuseWriter: reuseWriter{header: http.Header{}}}
	s.Handler().ServeHTTP(w, req)
	read := time.Now()
	if w.status != http.StatusOK || w.body.String() != "x" {
		t.Fatalf("got %d %q", w.status, w.body.String())
	}
	if len(w.deadlines) != 1 {
		t.Fatalf("%d write deadlines set, want 1", len(w.deadlines))
	}
	if d := w.deadlines[0]; d.Before(read.Add(s.timeouts.Write - time.Second)) {
		t.Errorf("write deadline %v from the end of the body, want about %v", time.Until(d), s.timeouts.Write)
	}
}

// TestServer_bodyTooLargeClosesConnection checks that a body over
// MaxBodyBytes is answered 400 with Connection: close, with the access log
// on or off: http.MaxBytesReader gets net/http's own writer under the
// middleware's, so net/http does not try to read the rest of the body to
// reuse the connection.
func TestServer_bodyTooLargeClosesConnection(t *testing.T) {
	for _, accessLog := range []bool{true, false} {
		t.Run(map[bool]string{true: "AccessLogOn", false: "AccessLogOff"}[accessLog], func(t *testing.T) {
			s := startServer(t, Config{MaxBodyBytes: 100, AccessLog: accessLog, AccessLogOutput: io.Discard})
			conn := dialServer(t, s)
			body := strings.Repeat("x", 5000)
			fmt.Fprintf(conn, "POST /v2/rpc/echo?unwrap&http_key=%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", testHTTPKey, len(body), body)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !resp.Close {
				t.Errorf("got %d, Connection: close %v; want 400 and the connection closed", resp.StatusCode, resp.Close)
			}
		})
	}
}
