package outbound

import (
	"context"
	"fmt"
	"net"
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
