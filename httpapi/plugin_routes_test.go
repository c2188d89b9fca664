package httpapi

import (
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

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
	} {
		if got := reservedPath(tc.path); got != tc.want {
			t.Errorf("reservedPath(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

// TestServer_pluginRouteHeaders checks the headers of a plugin route that
// sets more headers than the host and the server keep room for, one name
// twice and one that every response carries already, asked with an Origin
// so that the CORS header is among them too: each value reaches
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
