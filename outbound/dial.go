package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/warden-rpc/warden/abi"
)

// refusal is why a grant check failed inside the HTTP client (a redirect
// hop, or the address a name resolved to); Do turns it into a NOT_GRANTED
// Error. detail is for the operator's log only (Error.Detail).
type refusal struct{ why, detail string }

func (r *refusal) Error() string { return r.why }

// errTooManyRedirects ends a chain past abi.MaxOutboundRedirects.
var errTooManyRedirects = fmt.Errorf("more than %d redirects", abi.MaxOutboundRedirects)

// targetOf returns what u asks for. ok is false when u's host is not a
// host name or an address (a zone, an empty host, a bad port).
func targetOf(u *url.URL) (t target, ok bool) {
	t.scheme = strings.ToLower(u.Scheme)
	host, port := u.Hostname(), u.Port()
	t.port = defaultPort(t.scheme)
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return t, false
		}
		t.port = uint16(n)
	}
	return hostTarget(t, host)
}

// hostTarget sets t's name or address from host.
func hostTarget(t target, host string) (target, bool) {
	if host == "" {
		return t, false
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return t, false
		}
		t.addr = a.Unmap()
		return t, true
	}
	t.name = strings.TrimSuffix(strings.ToLower(host), ".")
	return t, validName(t.name)
}

// dialFunc returns the DialContext of scheme: it checks the host against
// the grants, takes one of the plugin's connection slots, resolves a name
// itself, keeps the addresses the grants allow
// and dials one of those, by address, so that nothing resolves the name
// again between the check and the connection.
func (c *Client) dialFunc(scheme string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, _, addr string) (net.Conn, error) {
		ctx, done := c.boundDial(ctx)
		defer done()
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("bad port %q", port)
		}
		t, ok := hostTarget(target{scheme: scheme, port: uint16(n)}, host)
		if !ok || !c.cfg.Policy.allowsTarget(t) {
			return nil, &refusal{why: "host " + addr + " is not granted"}
		}
		if err := c.acquireConn(ctx); err != nil {
			return nil, fmt.Errorf("wait for one of the plugin's %d connections: %w", cap(c.conns), err)
		}
		conn, err := c.dialAllowed(ctx, t)
		if err != nil {
			<-c.conns
			return nil, err
		}
		return c.counted(conn), nil
	}
}

// dialAllowed resolves t's name, keeps the addresses the grants allow and
// dials one of them.
func (c *Client) dialAllowed(ctx context.Context, t target) (net.Conn, error) {
	var err error
	addrs := []netip.Addr{t.addr}
	if !t.addr.IsValid() {
		if addrs, err = c.s.cfg.Resolver.LookupNetIP(ctx, "ip", t.name); err != nil {
			return nil, fmt.Errorf("resolve %s: %w", t.name, withoutServer(err))
		}
	}
	var allowed []netip.Addr
	var refused []string
	for _, a := range addrs {
		if a = a.Unmap(); c.cfg.Policy.allowsAddr(t, a) {
			allowed = append(allowed, a)
		} else {
			refused = append(refused, a.String())
		}
	}
	if len(allowed) == 0 {
		// The addresses go to the operator's log, not to the plugin: a
		// name under a wildcard grant that the server's DNS resolves to
		// private addresses (split-horizon DNS) would map the intranet.
		return nil, &refusal{why: t.name + " resolved only to special addresses that no grant names",
			detail: strings.Join(refused, ", ")}
	}
	var errs []error
	for _, a := range allowed {
		conn, err := c.s.dialer.DialContext(ctx, "tcp", netip.AddrPortFrom(a, t.port).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// withoutServer returns err without the resolver's address: a
// *net.DNSError names the DNS server it asked ("lookup x on 10.0.0.2:53"),
// an address of the operator's network that the plugin has no grant for
// and need not know. Its Err, text, names it too when the resolver could
// not be reached: Go's resolver keeps the socket's error there ("read udp
// 127.0.0.1:40000->10.0.0.2:53: read: connection refused"), so an Err
// other than one of resolverMessages, which name no address, is replaced
// by what the error's flags say. The rest (the name, not found, a
// timeout) stays.
func withoutServer(err error) error {
	de, ok := errors.AsType[*net.DNSError](err)
	if !ok {
		return err
	}
	c := *de
	c.Server = ""
	switch {
	case slices.Contains(resolverMessages, c.Err):
	case c.IsNotFound:
		c.Err = "no such host"
	case c.IsTimeout:
		c.Err = "i/o timeout"
	default:
		c.Err = "the DNS resolver could not be reached"
	}
	return &c
}

// resolverMessages are the texts Go's resolver puts in net.DNSError.Err
// that name no address (its own errors, not a socket's).
var resolverMessages = []string{"no such host", "i/o timeout", "operation was canceled", "server misbehaving",
	"no answer from DNS server", "lame referral", "invalid DNS response", "cannot unmarshal DNS message",
	"cannot marshal DNS message", "no suitable address found", "DNS response contained records which contain invalid names"}

// requestKey keys, in a request's context, that context itself. The HTTP
// transport dials under a context that keeps the request's values but not
// its end, so that a dial outlives the request that started it; through
// this value the dial finds the request again and ends with it.
type requestKey struct{}

// withRequest returns rctx carrying itself under requestKey.
func withRequest(rctx context.Context) context.Context {
	return context.WithValue(rctx, requestKey{}, rctx)
}

// boundDial returns the context a dial (resolution, connection and TLS
// handshake) runs under: ctx, ended too when the request that started the
// dial ends, or after the plugin's timeout when ctx carries no request.
// Without it a plugin could leave a dial pending (a server that accepts
// and never finishes the handshake keeps it forever) with each request it
// lets time out, past its bound on connections. done releases it.
func (c *Client) boundDial(ctx context.Context) (_ context.Context, done func()) {
	req, ok := ctx.Value(requestKey{}).(context.Context)
	if !ok {
		return context.WithTimeout(ctx, c.cfg.Timeout)
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(req, cancel)
	return ctx, func() { stop(); cancel() }
}

// dialTLS dials as dialFunc("https") does, then runs the TLS handshake,
// verifying the server's certificate for the URL's host against the system
// roots and the extra CA file. It offers HTTP/2 and HTTP/1.1.
func (c *Client) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, done := c.boundDial(ctx)
	defer done()
	raw, err := c.dialFunc("https")(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	cfg := c.tls.Clone()
	cfg.ServerName = host
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return tc, nil
}

// sensitiveHeaders are dropped from a redirect that leaves the origin of
// the request the plugin made.
var sensitiveHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Cookie2",
	"Www-Authenticate", "X-Api-Key", "X-Auth-Token", "Referer"}

// checkRedirect allows a redirect when the hop is granted and the chain is
// at most abi.MaxOutboundRedirects long; a hop to another origin than the
// first request's, or after one, loses the sensitive headers.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > abi.MaxOutboundRedirects {
		return errTooManyRedirects
	}
	t, ok := targetOf(req.URL)
	if !ok || (t.scheme != "http" && t.scheme != "https") || !c.cfg.Policy.allowsTarget(t) {
		return &refusal{why: "redirect to " + redact(req.URL) + " is not granted"}
	}
	origin := originOf(via[0].URL)
	crossed := originOf(req.URL) != origin
	for _, v := range via[1:] {
		crossed = crossed || originOf(v.URL) != origin
	}
	if crossed {
		for _, h := range sensitiveHeaders {
			req.Header.Del(h)
		}
	}
	return nil
}

// originOf is u's scheme, host and port, with the scheme's default port
// written out.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = strconv.Itoa(int(defaultPort(scheme)))
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// redact renders u for messages and logs: its origin and path, without
// user info, query or fragment.
func redact(u *url.URL) string {
	return originOf(u) + u.EscapedPath()
}
