package metrics

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestServer_idleConnectionsEnd checks that the metrics listener does not
// keep a client's connection forever: after one scrape, a connection that
// sends nothing more is closed, as one that sends nothing at all is after
// the header timeout. Without an idle timeout, anyone who reaches the
// listener holds as many of the process's file descriptors (which the API
// listener shares) as they open, for as long as they like.
func TestServer_idleConnectionsEnd(t *testing.T) {
	s, err := New().Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Serve(ctx) }()

	conn, err := net.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, res.Body); err != nil || res.StatusCode != 200 {
		t.Fatalf("scrape: %d %v", res.StatusCode, err)
	}
	res.Body.Close()
	// Idle now: the server should close the connection within its idle
	// timeout, which is no longer than the header timeout (5 s).
	_ = conn.SetReadDeadline(time.Now().Add(8 * time.Second))
	_, err = br.ReadByte()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the metrics listener kept an idle connection open for 8 s after its scrape")
	}
	if err != io.EOF {
		t.Fatalf("idle connection: %v, want the server to close it (EOF)", err)
	}
}
