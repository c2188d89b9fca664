package outbound

import "net/netip"

// specialRanges are the addresses a plugin reaches only when a grant names
// them: everything that is not a public unicast address on the Internet.
// IPv4-mapped IPv6 addresses are unmapped before the check, and an address
// in NAT64's well-known prefix is checked by the IPv4 address it embeds.
var specialRanges = mustPrefixes(
	// IPv4
	"0.0.0.0/8",       // "this network", unspecified
	"10.0.0.0/8",      // private (RFC 1918)
	"100.64.0.0/10",   // carrier-grade NAT (RFC 6598)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, cloud metadata services
	"172.16.0.0/12",   // private (RFC 1918)
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation (TEST-NET-1)
	"192.88.99.0/24",  // 6to4 relay anycast
	"192.168.0.0/16",  // private (RFC 1918)
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation (TEST-NET-2)
	"203.0.113.0/24",  // documentation (TEST-NET-3)
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, and 255.255.255.255 broadcast
	// IPv6
	"::/96",           // unspecified, loopback, IPv4-compatible (deprecated)
	"::ffff:0:0:0/96", // IPv4-translated (SIIT)
	"64:ff9b:1::/48",  // NAT64, local use
	"100::/64",        // discard-only
	"2001::/23",       // IETF protocol assignments, Teredo
	"2001:db8::/32",   // documentation
	"2002::/16",       // 6to4: embeds any IPv4 address
	"fc00::/7",        // unique local (ULA)
	"fe80::/10",       // link-local
	"fec0::/10",       // site-local (deprecated)
	"ff00::/8",        // multicast
)

// nat64 is NAT64's well-known prefix (RFC 6052): the last 32 bits are an
// IPv4 address.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Special reports whether a is not a public unicast address: loopback,
// private, link-local, CGNAT, multicast, unspecified, broadcast,
// documentation and other reserved ranges, for IPv4 and IPv6, including
// IPv4 addresses mapped into or embedded in IPv6. An invalid address is
// special.
func Special(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return true
	}
	a = a.Unmap()
	if a.Is6() && nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, p := range specialRanges {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}
