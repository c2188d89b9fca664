package host

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
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
