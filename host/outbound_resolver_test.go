package host

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/outbound"
)

// TestHTTPRequest_resolverAddressHidden checks that a plugin whose granted
// name does not resolve does not learn where the server's DNS resolver is:
// net.DNSError names the resolver's address ("lookup x on 10.0.0.2:53: no
// such host"), an address on the operator's network that no grant names.
func TestHTTPRequest_resolverAddressHidden(t *testing.T) {
	const name = "warden-no-such-host.invalid"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := net.DefaultResolver.LookupNetIP(ctx, "ip", name)
	var de *net.DNSError
	if !errors.As(err, &de) || de.Server == "" {
		t.Skipf("the system resolver names no server for %s: %v", name, err)
	}
	dir := pluginDir(t, "fetch.wasm")
	writeManifest(t, dir, "fetch", "[http]\nallow = [\"http://"+name+"\"]\n")
	h := newTestHost(t, dir, nil)
	got := fetch(t, h, abi.HTTPRequest{URL: "http://" + name + "/x"})
	if got.status != abi.StatusHTTPFailed {
		t.Fatalf("%+v, want HTTP_FAILED", got)
	}
	if strings.Contains(got.msg, de.Server) {
		t.Fatalf("the plugin's error names the server's resolver, %s: %q", de.Server, got.msg)
	}
	if !strings.Contains(got.msg, name) {
		t.Fatalf("the error no longer names the host that failed: %q", got.msg)
	}
}

// fetchHostWith returns a host serving the fetch fixture, granted grant,
// whose outbound service is made of cfg.
func fetchHostWith(t *testing.T, grant string, cfg outbound.Config) *Host {
	t.Helper()
	dir := pluginDir(t, "fetch.wasm")
	writeManifest(t, dir, "fetch", "[http]\nallow = [\""+grant+"\"]\n")
	return newTestHost(t, dir, func(c *Config) {
		out, err := outbound.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.Outbound = out
	})
}

// splitHorizon answers as an intranet's DNS server would: the names of
// corp.test resolve to private addresses.
type splitHorizon map[string][]netip.Addr

func (s splitHorizon) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := s[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestHTTPRequest_privateAnswersHidden checks that a plugin granted a
// wildcard cannot map the operator's intranet through refusals: a name
// under the grant that the server's DNS resolves to private addresses
// (split-horizon DNS) is refused, and the plugin's error must not say
// which addresses those were. The operator's log still does.
func TestHTTPRequest_privateAnswersHidden(t *testing.T) {
	logs := &logBuffer{}
	h := fetchHostWith(t, "http://*.corp.test", outbound.Config{Logger: zerolog.New(logs),
		Resolver: splitHorizon{"db.corp.test": {netip.MustParseAddr("10.20.30.40"), netip.MustParseAddr("fd12:3456::7")}}})
	got := fetch(t, h, abi.HTTPRequest{URL: "http://db.corp.test/"})
	if got.status != abi.StatusNotGranted {
		t.Fatalf("%+v, want NOT_GRANTED", got)
	}
	logged := logs.take()
	for _, a := range []string{"10.20.30.40", "fd12:3456::7"} {
		if strings.Contains(got.msg, a) {
			t.Errorf("the plugin's error names %s, an address of the intranet: %q", a, got.msg)
		}
		if !strings.Contains(logged, a) {
			t.Errorf("the operator's log does not name %s: %s", a, logged)
		}
	}
}

// TestHTTPRequest_unreachableResolverHidden checks the same when the
// server's DNS resolver cannot be reached: Go's resolver then keeps the
// socket's error in net.DNSError.Err as text ("read udp
// 127.0.0.1:40000->10.0.0.2:53: read: connection refused", or "i/o
// timeout" for one that drops the query), which names the resolver's
// address though DNSError.Server is cleared.
func TestHTTPRequest_unreachableResolverHidden(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resolver := pc.LocalAddr().String() // nothing listens there once closed
	pc.Close()
	h := fetchHostWith(t, "http://db.corp.test", outbound.Config{Logger: zerolog.Nop(), Resolver: &net.Resolver{PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", resolver)
		}}})
	got := fetch(t, h, abi.HTTPRequest{URL: "http://db.corp.test/"})
	if got.status != abi.StatusHTTPFailed {
		t.Fatalf("%+v, want HTTP_FAILED", got)
	}
	if strings.Contains(got.msg, resolver) {
		t.Fatalf("the plugin's error names the server's resolver, %s: %q", resolver, got.msg)
	}
	if !strings.Contains(got.msg, "db.corp.test") {
		t.Fatalf("the error no longer names the host that failed: %q", got.msg)
	}
}
