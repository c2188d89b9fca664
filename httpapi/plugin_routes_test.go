package httpapi

import (
	"strings"
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
