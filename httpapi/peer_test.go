package httpapi

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
)

func TestNewPeer(t *testing.T) {
	for _, tc := range []struct {
		raw, addr, ip, port string
	}{
		{"127.0.0.1:5000", "127.0.0.1", "127.0.0.1", "5000"},
		{"[::1]:80", "::1", "::1", "80"},
		{"[fe80::1%eth0]:443", "fe80::1%eth0", "fe80::1%eth0", "443"},
		{"pipe", "invalid IP", "pipe", ""},
		{"host.example:80", "invalid IP", "host.example", "80"},
		{"", "invalid IP", "", ""},
	} {
		p := newPeer(tc.raw)
		if p.raw != tc.raw || p.addr.String() != tc.addr || p.ip != tc.ip || p.port != tc.port {
			t.Errorf("newPeer(%q) = {%q %v %q %q}, want {%q %s %q %q}",
				tc.raw, p.raw, p.addr, p.ip, p.port, tc.raw, tc.addr, tc.ip, tc.port)
		}
	}
}

// TestPeerOf_fallback checks that a request without its connection's
// peer, or whose RemoteAddr no longer matches it, gets its own address.
func TestPeerOf_fallback(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	if p := peerOf(r); p.addr != netip.MustParseAddr("192.0.2.1") || p.port != "1234" {
		t.Errorf("no peer in the context: got {%v %q}", p.addr, p.port)
	}
	r = r.WithContext(context.WithValue(r.Context(), peerKey{}, newPeer("198.51.100.7:99")))
	if p := peerOf(r); p.addr != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("a peer of another address in the context: got %v, want 192.0.2.1", p.addr)
	}
}

// TestConnContext_oncePerConnection checks, on a real listener, that the
// requests of one connection share the peer parsed when it was accepted,
// and that another connection gets its own.
func TestConnContext_oncePerConnection(t *testing.T) {
	var mu sync.Mutex
	var seen []*peer
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, peerOf(r))
		mu.Unlock()
	}))
	srv.Config.ConnContext = connContext
	srv.Start()
	defer srv.Close()
	get := func(c *http.Client) {
		t.Helper()
		res, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}
	one := &http.Client{Transport: &http.Transport{}}
	get(one)
	get(one)
	other := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get(other)
	if len(seen) != 3 {
		t.Fatalf("%d requests seen, want 3", len(seen))
	}
	if seen[0] != seen[1] {
		t.Error("two requests on one connection parsed its address twice")
	}
	if seen[2] == seen[0] || seen[2].raw == seen[0].raw {
		t.Errorf("a second connection shares the first one's peer (%q)", seen[0].raw)
	}
	if host, _, _ := net.SplitHostPort(seen[0].raw); seen[0].ip != host || !seen[0].addr.IsLoopback() {
		t.Errorf("peer %+v does not match its address", seen[0])
	}
}
