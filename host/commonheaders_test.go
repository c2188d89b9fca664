package host

import (
	"net/http"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// TestCommonHeaders holds commonHeader and commonValue to what
// output_add_header needs of them. A known name, in canonical or lower
// case, becomes the canonical form http.CanonicalHeaderKey gives it, is a
// valid token and is none the host manages (output_add_header checks
// neither for a known name); any other spelling is unknown and goes
// through those checks. A known value is itself. Neither copies its
// argument.
func TestCommonHeaders(t *testing.T) {
	names := []string{"Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
		"Access-Control-Allow-Origin", "Cache-Control", "Content-Disposition", "Content-Encoding",
		"Content-Language", "Content-Type", "Etag", "Expires", "Last-Modified", "Location",
		"Set-Cookie", "Vary"}
	for _, n := range names {
		for _, k := range []string{n, strings.ToLower(n)} {
			got, ok := commonHeader([]byte(k))
			if !ok || got != n || got != http.CanonicalHeaderKey(k) {
				t.Errorf("commonHeader(%q) = %q, %v; want %q, true", k, got, ok, n)
			}
		}
		if !abi.ValidToken(n) || managedHeader(n) {
			t.Errorf("%s is known, so output_add_header does not check it: it must be valid and not managed", n)
		}
	}
	for _, k := range []string{"", "X-Made-By", "CONTENT-TYPE", "Content-type", "content-typ", "Warden-Plugin", "Content-Length", "content-length"} {
		if got, ok := commonHeader([]byte(k)); ok {
			t.Errorf("commonHeader(%q) = %q, true; want unknown", k, got)
		}
	}
	values := []string{"application/json", "application/json; charset=utf-8", "application/octet-stream",
		"no-cache", "no-store", "text/html; charset=utf-8", "text/plain; charset=utf-8", "*"}
	for _, v := range values {
		if got, ok := commonValue([]byte(v)); !ok || got != v {
			t.Errorf("commonValue(%q) = %q, %v; want itself", v, got, ok)
		}
		if !abi.ValidHeaderValue([]byte(v)) {
			t.Errorf("%q is not a valid header value", v)
		}
	}
	for _, v := range []string{"", "text/plain", "Application/JSON", "no-cache "} {
		if got, ok := commonValue([]byte(v)); ok {
			t.Errorf("commonValue(%q) = %q, true; want unknown", v, got)
		}
	}
	k, v := []byte("content-type"), []byte("text/plain; charset=utf-8")
	if n := testing.AllocsPerRun(100, func() { commonHeader(k); commonValue(v) }); n != 0 {
		t.Errorf("commonHeader and commonValue allocate %v times, want 0", n)
	}
}
