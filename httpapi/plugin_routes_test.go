package httpapi

import (
	"net/http"
	"path"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/host"
)

func TestCheckPluginRoutes(t *testing.T) {
	route := func(plugin, pattern string, methods ...string) *host.Route {
		if len(methods) == 0 {
			methods = []string{"GET"}
		}
		return &host.Route{Plugin: plugin, Pattern: pattern, Methods: methods}
	}
	t.Run("OK", func(t *testing.T) {
		err := CheckPluginRoutes([]*host.Route{route("a", "/test"), route("a", "/items/:id", "GET", "POST"), route("b", "/hooks/*rest", "POST")})
		if err != nil {
			t.Fatal(err)
		}
	})
	tests := []struct {
		name   string
		routes []*host.Route
		want   string
	}{
		{"ErrReservedV2", []*host.Route{route("p", "/v2/account/extra")}, "route /v2/account/extra of plugin p is under /v2/"},
		{"ErrReservedAdmin", []*host.Route{route("p", "/_warden/x")}, "under /_warden/"},
		{"ErrShadowsHealthcheck", []*host.Route{route("p", "/healthcheck")}, "route /healthcheck of plugin p is under /healthcheck/"},
		{"ErrReservedAnyCase", []*host.Route{route("p", "/V2/rpc/x")}, "under /v2/"},
		{"ErrReservedUnclean", []*host.Route{route("p", "/x/../_warden/x")}, "under /_warden/"},
		{"ErrShadowsRoot", []*host.Route{route("p", "/")}, "would shadow Warden's GET /"},
		{"ErrWildcardShadows", []*host.Route{route("p", "/:anything")}, "would shadow Warden's GET /healthcheck"},
		{"ErrCatchAllShadows", []*host.Route{route("p", "/*all", "POST")}, "would shadow Warden's POST /"},
		{"ErrConflictingPatterns", []*host.Route{route("a", "/x/:id"), route("b", "/x/:name")}, "route GET /x/:name of plugin b conflicts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPluginRoutes(tt.routes)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckPluginRoutes() = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestReservedPath checks which spellings of a path are reserved for
// Warden's own routes: as sent, cleaned, in any case.
func TestReservedPath(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"/v2/rpc/x", "/v2/"},
		{"/V2/RPC/x", "/v2/"},
		{"/v2", "/v2/"},
		{"/v2/", "/v2/"},
		{"/v2//rpc", "/v2/"},
		{"/x/../v2/rpc", "/v2/"},
		{"/x/../V2", "/v2/"},
		{"/healthcheck", "/healthcheck/"},
		{"/HealthCheck/", "/healthcheck/"},
		{"/_warden", "/_warden/"},
		{"/a/./../_bench/x", "/_bench/"},
		{"/test", ""},
		{"/v2x", ""},
		{"/healthcheckx", ""},
		{"/", ""},
		{"/a/v2/x", ""},
		{"/healthchec\u212a", "/healthcheck/"}, // the Kelvin sign lowers to 'k'
		{"/_WARDEN/x/", "/_warden/"},
		{"/v2/.", "/v2/"},
		{"/./v2", "/v2/"},
		{"/../V2/x", "/v2/"},
		{"//v2", "/v2/"},
		{"v2/rpc", ""},
		{"", ""},
		{"/...", ""},
		{"/.../v2", ""},
	} {
		if got := reservedPath(tc.path); got != tc.want {
			t.Errorf("reservedPath(%q) = %q, want %q", tc.path, got, tc.want)
		}
		if got := reservedPathPlain(tc.path); got != tc.want {
			t.Errorf("reservedPathPlain(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

// reservedPathPlain is reservedPath's definition, spelled out with none of
// its code: the prefix of the path as sent or cleaned, lowercased.
func reservedPathPlain(p string) string {
	for _, c := range []string{strings.ToLower(p), strings.ToLower(path.Clean(p))} {
		for _, prefix := range reservedPrefixes {
			if strings.HasPrefix(c, prefix) || c == strings.TrimSuffix(prefix, "/") {
				return prefix
			}
		}
	}
	return ""
}

// TestCleanASCII checks the fast path's test against path.Clean.
func TestCleanASCII(t *testing.T) {
	for _, p := range []string{"/", "/test", "/a/b", "/a.b/.c/..d/...", "/a/b.", "/.a", "/a-b_c/~", "/%2e%2e"} {
		if !cleanASCII(p) || path.Clean(p) != p {
			t.Errorf("cleanASCII(%q) = %v, path.Clean = %q: want a clean path", p, cleanASCII(p), path.Clean(p))
		}
	}
	for _, p := range []string{"", "a", "a/b", "//", "/a/", "/a//b", "/.", "/..", "/./a", "/../a", "/a/.", "/a/..", "/a/./b", "/a/../b", "/caf\u00e9", "/\x80"} {
		if cleanASCII(p) {
			t.Errorf("cleanASCII(%q) = true, want false (path.Clean gives %q)", p, path.Clean(p))
		}
	}
}

// TestReservedPath_exhaustive holds reservedPath to its definition for
// every path of up to five pieces from the ones its rules turn on: slashes,
// dot elements, reserved names in several cases (the Kelvin sign among
// them), and other names.
func TestReservedPath_exhaustive(t *testing.T) {
	pieces := []string{"/", ".", "..", "v2", "V2", "_warden", "_bench", "healthcheck", "HealthChecK", "healthchec\u212a", "x", "%2e"}
	var walk func(p string, depth int)
	n := 0
	walk = func(p string, depth int) {
		n++
		if got, want := reservedPath(p), reservedPathPlain(p); got != want {
			t.Fatalf("reservedPath(%q) = %q, want %q", p, got, want)
		}
		if cleanASCII(p) && path.Clean(p) != p {
			t.Fatalf("cleanASCII(%q) but path.Clean gives %q", p, path.Clean(p))
		}
		if depth == 5 {
			return
		}
		for _, s := range pieces {
			walk(p+s, depth+1)
		}
	}
	walk("", 0)
	if n < 200000 {
		t.Fatalf("walked %d paths", n)
	}
}

// FuzzReservedPath holds reservedPath to its definition for any path, and
// cleanASCII to path.Clean: a path it calls clean must be unchanged by it.
func FuzzReservedPath(f *testing.F) {
	for _, s := range []string{"/test", "/v2/rpc/x", "/V2//x", "/x/../_bench", "/healthchec\u212a/", "/./.../..", "/_warden", "/a/b/c.d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := reservedPath(p), reservedPathPlain(p); got != want {
			t.Fatalf("reservedPath(%q) = %q, want %q", p, got, want)
		}
		if cleanASCII(p) && path.Clean(p) != p {
			t.Fatalf("cleanASCII(%q) but path.Clean gives %q", p, path.Clean(p))
		}
	})
}

// TestServer_pluginRouteHeaders checks the headers of a plugin route that
// sets more headers than the host and the server keep room for, one name
// twice and one that every response carries already, asked with an Origin
// so that the CORS header is among them too, and the sandbox's policy on
// every plugin page (abi.RouteContentSecurityPolicy): each value reaches
// the client once, in order, and no request sees another's, including
// requests served at the same time.
func TestServer_pluginRouteHeaders(t *testing.T) {
	s, h := dispatchServer(t, "../host/testdata/headers.wasm")
	want := http.Header{
		"X-A":                         {"1", "3"},
		"X-B":                         {"2"},
		"Cache-Control":               {"no-store, no-cache, must-revalidate", "private"},
		"Content-Type":                {"text/plain; charset=utf-8"},
		"Warden-Plugin":               {"headers@" + pluginVersion(t, h, "headers")},
		"Access-Control-Allow-Origin": {"*"},
		"Content-Length":              {"2"},
		"Content-Security-Policy":     {abi.RouteContentSecurityPolicy},
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 25 {
				res := do(t, s, "GET", "/headers", http.Header{"Origin": {"https://game.example"}}, "")
				delete(res.header, "Date")
				if res.status != 200 || res.body != "ok" || !reflect.DeepEqual(res.header, want) {
					t.Errorf("GET /headers: %d %q %v, want 200 \"ok\" %v", res.status, res.body, res.header, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
