package outbound

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
)

// tarpit accepts TCP connections and never answers on them (a TLS
// handshake with it never ends); open counts those the client has not
// closed.
func tarpit(t *testing.T) (port string, open *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	open = new(atomic.Int32)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			open.Add(1)
			go func() {
				defer open.Add(-1)
				defer conn.Close()
				buf := make([]byte, 4096)
				for {
					if _, err := conn.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, open
}

// TestClient_abandonedDialsEnd is the attack of a plugin that opens
// connections past its bound: the HTTP transport keeps dialing after the
// request that started the dial ends (so that another request may use the
// connection), and a TLS handshake dialed by the client has no deadline of
// its own. A plugin granted a wildcard (or one name, spelled in other
// cases) sent requests with a short timeout to a server that accepts and
// never answers; each request ended, its slot came back, and its
// connection stayed open for good, one more each time: enough of them
// exhaust the server's file descriptors. Every dial must end with the
// request that started it.
func TestClient_abandonedDialsEnd(t *testing.T) {
	port, open := tarpit(t)
	res := &fakeResolver{answer: func(string, int) []netip.Addr { return addrs("127.0.0.1") }}
	c := testClient(t, []string{"https://*.tarpit.test:" + port, "https://127.0.0.1:" + port}, res,
		func(cfg *Config, _ *ClientConfig) { cfg.MaxRequestsPerPlugin = 2 })
	const n = 12
	for i := range n {
		_, e := c.Do(context.Background(), abi.HTTPRequest{URL: fmt.Sprintf("https://h%d.tarpit.test:%s/", i, port), TimeoutMS: 100})
		wantStatus(t, e, abi.StatusHTTPFailed)
	}
	deadline := time.Now().Add(10 * time.Second)
	for open.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests ended, %d of their connections are still open (the plugin's bound is 2)", n, open.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClient_connectionBound is the attack of a plugin that keeps many
// connections open: HTTP/2 connections stay in the transport's pool apart
// from the idle bound of HTTP/1.1 ones, one per host spelling, and a
// wildcard grant, or one name written in other cases or with a trailing
// dot, gives a plugin as many spellings as it wants. Twelve requests, one
// after another, to twelve spellings of the one granted name left twelve
// connections open for the idle timeout (90 s), six times the plugin's
// bound of 2; enough of them exhaust the server's file descriptors. A
// plugin's open connections, idle or not and whatever the protocol, stay
// within its bound.
func TestClient_connectionBound(t *testing.T) {
	var open atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	p := port(t, srv.URL)
	ca := writeCA(t, srv)
	res := &fakeResolver{answer: func(string, int) []netip.Addr { return addrs("127.0.0.1") }}
	c := testClient(t, []string{"https://example.com:*", "https://127.0.0.1:*"}, res,
		func(cfg *Config, _ *ClientConfig) { cfg.CAFile = ca; cfg.MaxRequestsPerPlugin = 2 })
	names := []string{"example.com", "Example.com", "eXample.com", "exAmple.com", "exaMple.com", "examPle.com",
		"exampLe.com", "examplE.com", "example.Com", "example.cOm", "example.coM", "example.com."}
	for _, n := range names {
		r, e := c.Do(context.Background(), get("https://"+n+":"+p+"/"))
		if e != nil {
			t.Fatalf("%s: %v", n, e)
		}
		if string(r.Body) != "HTTP/2.0" {
			t.Fatalf("%s: served over %q, want HTTP/2.0", n, r.Body)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for open.Load() > 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests left %d connections open, over the plugin's bound of 2", len(names), open.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
