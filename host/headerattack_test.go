package host

import (
	"context"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// TestHost_outputAddHeader_attack is a hostile plugin against
// output_add_header (testdata/headerattack.wat): it tries the headers the
// host manages, in lower, canonical and upper case, control characters in
// values, names that are not tokens, ranges outside its memory, a length
// of 4 GiB, cookies that would reach the console (their name or their
// path) or other hosts (a Domain), and then overwrites the bytes of the two headers it was
// allowed. Each attempt must get its refusal and add nothing; the two good
// headers must come out canonical and whole, as the host's own strings,
// not views of guest memory that the plugin then rewrote; and a second
// call must start with no header of the first.
func TestHost_outputAddHeader_attack(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "headerattack.wasm"), nil)
	routes, _ := h.Routes()
	if len(routes) != 1 || routes[0].Pattern != "/h" {
		t.Fatalf("routes = %v", routes)
	}
	bad, inv, limit, ok := int64(abi.StatusBadArgument), int64(abi.StatusInvalidMemory), int64(abi.StatusLimitExceeded), int64(abi.StatusOK)
	want := []int64{
		bad, bad, bad, bad, bad, // Content-Length twice, Warden-Plugin, Transfer-Encoding, Connection
		bad, bad, bad, bad, // CR LF in a value, a space in a name, LF in Set-Cookie, NUL in Etag
		inv, inv, limit, bad, // name past the end, value at -1, 4 GiB name, empty name
		ok, ok, // content-type, X-Keep
		bad, bad, bad, bad, ok, // cookies: the console's, a /_warden/ path, a warden_ name, /_WARDEN/; the plugin's own
		bad, bad, bad, // headers a proxy acts on: X-Accel-Redirect, X-Sendfile, X-Lighttpd-Send-File
		bad, bad, bad, // hop-by-hop: Upgrade, Trailer, Keep-Alive
		bad, bad, bad, bad, // by family: X-Sendfile-Temporary, X-Envoy-…, Proxy-Status, X-Accel-Limit-Rate
		bad, // a cookie with a Domain, for every host of the domain
	}
	wantHeaders := [][2]string{{"Content-Type", "text/plain; charset=utf-8"}, {"X-Keep", "kept"}, {"Set-Cookie", "game=1; Path=/game"}}
	for call := range 2 {
		res, err := h.CallRoute(context.Background(), routes[0], &Request{HTTP: &HTTPRequest{Method: "GET", Path: "/h", Route: "/h"}})
		if err != nil {
			t.Fatalf("call %d: %v", call, err)
		}
		if len(res.Output) != 8*len(want) {
			t.Fatalf("call %d: %d bytes of output, want %d", call, len(res.Output), 8*len(want))
		}
		got := make([]int64, len(want))
		for i := range got {
			got[i] = int64(binary.LittleEndian.Uint64(res.Output[8*i:]))
		}
		if !slices.Equal(got, want) {
			t.Errorf("call %d: statuses %v, want %v", call, got, want)
		}
		if !slices.Equal(res.Headers, wantHeaders) {
			t.Errorf("call %d: headers %q, want %q", call, res.Headers, wantHeaders)
		}
	}
}
