package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/netip"
)

// peer is a connection's remote address, parsed once per connection
// rather than on every request (about 600 instructions each time): as a
// netip.Addr for the rate limiter, and as the IP and port a plugin gets.
type peer struct {
	// raw is the address as net/http gives it (Request.RemoteAddr).
	raw string
	// addr is its IP, invalid when raw does not parse as IP:port.
	addr netip.Addr
	// ip and port are raw split at its port; ip is raw, and port empty,
	// when it does not split.
	ip, port string
}

// newPeer parses raw, a remote address as net/http gives it.
func newPeer(raw string) *peer {
	p := &peer{raw: raw}
	if ap, err := netip.ParseAddrPort(raw); err == nil {
		p.addr = ap.Addr()
	}
	var err error
	if p.ip, p.port, err = net.SplitHostPort(raw); err != nil {
		p.ip, p.port = raw, ""
	}
	return p
}

// peerKey is the context key of a connection's peer.
type peerKey struct{}

// connContext is the http.Server's ConnContext: it parses the
// connection's remote address into the context its requests inherit.
func connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, peerKey{}, newPeer(c.RemoteAddr().String()))
}

// peerOf returns r's peer: its connection's, or, for a request that did
// not come through the server or whose RemoteAddr was changed since, one
// parsed now.
func peerOf(r *http.Request) *peer {
	if p, ok := r.Context().Value(peerKey{}).(*peer); ok && p.raw == r.RemoteAddr {
		return p
	}
	return newPeer(r.RemoteAddr)
}
