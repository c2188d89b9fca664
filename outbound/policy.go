// Package outbound makes the HTTP requests plugins send (http_request, ABI
// 1.2) under the grants of each plugin's manifest, with a client that is
// safe by construction: it resolves names itself and dials the address it
// checked, refuses loopback, private and other special addresses unless a
// grant names them, checks every redirect hop, verifies TLS, ignores proxy
// settings, keeps no cookies and bounds time, sizes and concurrency.
package outbound

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Policy is a plugin's set of grants: the origins it may call. The zero
// Policy (no grants) allows nothing.
type Policy struct {
	rules []rule
}

// rule is one grant, such as "https://*.stripe.com" or
// "http://127.0.0.1:*". It names either a host (exactly, or its subdomains
// only) or an address range.
type rule struct {
	src      string
	scheme   string
	name     string       // lower case, no trailing dot; "" for an address rule
	wildcard bool         // "*.name": subdomains of name, not name itself
	prefix   netip.Prefix // valid for an address rule
	port     uint16       // 0: any port ("*")
}

// ParsePolicy parses grants such as "https://api.example.com",
// "https://*.stripe.com", "http://127.0.0.1:8080", "http://10.0.0.0/8:*" or
// "https://[fd00::/8]:443". Each names a scheme (http or https), a host, and
// optionally a port: the scheme's default when absent, any with "*". A host
// is a DNS name, "*." and a name for its subdomains only, an IP address or
// a CIDR range (IPv6 in brackets). Nothing may follow but one "/". No
// grants allow nothing.
//
// # Errors
//
// It fails on the first malformed grant, naming it and why.
func ParsePolicy(grants []string) (*Policy, error) {
	p := &Policy{}
	for _, g := range grants {
		r, err := parseRule(g)
		if err != nil {
			return nil, fmt.Errorf("grant %q: %w", g, err)
		}
		p.rules = append(p.rules, r)
	}
	return p, nil
}

// Grants returns the grants as written.
func (p *Policy) Grants() []string {
	out := make([]string, len(p.rules))
	for i, r := range p.rules {
		out[i] = r.src
	}
	return out
}

func parseRule(s string) (rule, error) {
	r := rule{src: s}
	scheme, rest, ok := strings.Cut(s, "://")
	r.scheme = strings.ToLower(scheme)
	if !ok || (r.scheme != "http" && r.scheme != "https") {
		return r, fmt.Errorf("must start with http:// or https://")
	}
	rest = strings.TrimSuffix(rest, "/")
	var host, port string
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return r, fmt.Errorf("unclosed [")
		}
		host, port = rest[1:end], rest[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return r, fmt.Errorf("only a port may follow ]")
		}
		port = strings.TrimPrefix(port, ":")
		if !strings.Contains(host, ":") {
			return r, fmt.Errorf("[...] is for IPv6 addresses")
		}
	} else {
		host = rest
		if i := strings.LastIndexByte(rest, ':'); i >= 0 {
			host, port = rest[:i], rest[i+1:]
		}
	}
	var err error
	if r.port, err = parsePort(port, r.scheme); err != nil {
		return r, err
	}
	return r, r.parseHost(host)
}

// parsePort parses a grant's port: the scheme's default when empty, 0
// (any) for "*".
func parsePort(s, scheme string) (uint16, error) {
	switch s {
	case "":
		return defaultPort(scheme), nil
	case "*":
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("port %q is not 1..65535 or *", s)
	}
	return uint16(n), nil
}

func defaultPort(scheme string) uint16 {
	if scheme == "https" {
		return 443
	}
	return 80
}

func (r *rule) parseHost(host string) error {
	if strings.Contains(host, "/") {
		pfx, err := netip.ParsePrefix(host)
		if err != nil {
			return fmt.Errorf("%q is not a CIDR range", host)
		}
		if pfx.Addr().Zone() != "" {
			return fmt.Errorf("%q: zones are not allowed", host)
		}
		if pfx.Addr().Is4In6() && pfx.Bits() >= 96 {
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
		}
		r.prefix = pfx.Masked()
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("%q: zones are not allowed", host)
		}
		a = a.Unmap()
		r.prefix = netip.PrefixFrom(a, a.BitLen())
		return nil
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		r.wildcard, name = true, rest
	}
	if !validName(name) {
		return fmt.Errorf("%q is not a host name, IP address or CIDR range (a wildcard is only \"*.\" before a name)", host)
	}
	r.name = name
	return nil
}

// validName reports whether s is a DNS name of letters, digits, '-' and
// '_' in dot-separated labels.
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// target is what a request asks for: a scheme, a host (a name, or an
// address when addr is valid) and a port.
type target struct {
	scheme string
	name   string
	addr   netip.Addr
	port   uint16
}

func (r *rule) matchesSchemePort(t target) bool {
	return r.scheme == t.scheme && (r.port == 0 || r.port == t.port)
}

// allowsTarget reports whether a grant allows t: an address by an
// address rule, a name by a name rule.
func (p *Policy) allowsTarget(t target) bool {
	_, ok := p.grantOf(t)
	return ok
}

// grantOf returns the grant (as the manifest writes it) that allows t, and
// whether one does.
func (p *Policy) grantOf(t target) (string, bool) {
	for i := range p.rules {
		r := &p.rules[i]
		if !r.matchesSchemePort(t) {
			continue
		}
		if t.addr.IsValid() {
			if r.prefix.IsValid() && r.prefix.Contains(t.addr) {
				return r.src, true
			}
			continue
		}
		if r.name != "" && (r.name == t.name && !r.wildcard || r.wildcard && strings.HasSuffix(t.name, "."+r.name)) {
			return r.src, true
		}
	}
	return "", false
}

// allowsAddr reports whether a connection for t (whose name a grant
// allows) may go to a, an address the name resolved to: a public address
// may; a special one only when an address grant names it.
func (p *Policy) allowsAddr(t target, a netip.Addr) bool {
	if !Special(a) {
		return true
	}
	t.addr = a
	return p.allowsTarget(t)
}
