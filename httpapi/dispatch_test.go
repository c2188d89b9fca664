package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/julienschmidt/httprouter"
	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
)

// dispatchServer starts a real host over the given plugins (paths from the
// httpapi directory) and a server over it with the admin API and the
// native echo routes on, so that built-in routes of every kind exist.
func dispatchServer(t *testing.T, plugins ...string) (*Server, *host.Host) {
	t.Helper()
	return dispatchServerWith(t, Config{}, plugins...)
}

// dispatchServerWith is dispatchServer with cfg's other fields.
func dispatchServerWith(t *testing.T, cfg Config, plugins ...string) (*Server, *host.Host) {
	t.Helper()
	dir := t.TempDir()
	for _, p := range plugins {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
	h, err := host.New(context.Background(), host.Config{PluginDir: dir, Logger: log, CheckRoutes: CheckPluginRoutes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	if errs := h.LoadErrors(); len(errs) != 0 {
		t.Fatalf("load errors: %v", errs)
	}
	cfg.Caller, cfg.Routes, cfg.Admin, cfg.NativeEcho, cfg.Logger = h, h, h, true, log
	return serve(t, cfg), h
}

// dispatchCase is a request and the answer the server has always given it.
type dispatchCase struct {
	method, path string
	status       int
	body         string // the whole body, or a prefix when it ends in "…"
	allow        string // the Allow header
	plugin       string // the Warden-Plugin header
}

// checkDispatch sends each case to s over the network and compares the
// status, the body and the Allow and Warden-Plugin headers.
func checkDispatch(t *testing.T, s *Server, cases []dispatchCase) {
	t.Helper()
	for _, tc := range cases {
		res := do(t, s, tc.method, tc.path, nil, "")
		body := res.body
		want := tc.body
		if p, ok := strings.CutSuffix(want, "…"); ok {
			want = p
			body = body[:min(len(body), len(want))]
		}
		if res.status != tc.status || body != want || res.header.Get("Allow") != tc.allow || res.header.Get("Warden-Plugin") != tc.plugin {
			t.Errorf("%s %s: %d %q Allow %q plugin %q, want %d %q Allow %q plugin %q", tc.method, tc.path,
				res.status, res.body, res.header.Get("Allow"), res.header.Get("Warden-Plugin"),
				tc.status, tc.body, tc.allow, tc.plugin)
		}
	}
}

const (
	notFoundBody = `{"code":5,"message":"Not Found"}`
	mnaBody      = `{"code":12,"message":"Method Not Allowed"}`
)

// TestServer_dispatch pins the answer to requests that a plugin route, a
// built-in route or neither serves, as the server gave them when the
// built-in router dispatched every request itself: a plugin route is
// served for its methods only, a reserved path in any spelling never
// reaches a plugin, a built-in path with another method is 501 with
// Allow, and a path no route serves is 404.
func TestServer_dispatch(t *testing.T) {
	s, h := dispatchServer(t, "../plugins/seed/seed.wasm", "../plugins/echo/echo.wasm")
	seed := "seed@" + pluginVersion(t, h, "seed")
	checkDispatch(t, s, []dispatchCase{
		{"GET", "/test", 200, "You hit the new endpoint!", "", seed},
		{"POST", "/test", 404, notFoundBody, "", ""},
		{"PUT", "/test", 404, notFoundBody, "", ""},
		{"HEAD", "/test", 404, "", "", ""},
		{"DELETE", "/test", 404, notFoundBody, "", ""},
		{"GET", "/test/", 404, notFoundBody, "", ""},
		{"GET", "/TEST", 404, notFoundBody, "", ""},
		{"GET", "/test/x", 404, notFoundBody, "", ""},
		{"GET", "/tes", 404, notFoundBody, "", ""},
		{"GET", "//test", 404, notFoundBody, "", ""},
		{"GET", "/x/../test", 404, notFoundBody, "", ""},
		{"GET", "/", 200, "", "", ""},
		{"POST", "/", 501, mnaBody, "GET, OPTIONS", ""},
		{"DELETE", "/", 501, mnaBody, "GET, OPTIONS", ""},
		{"GET", "/healthcheck", 200, "{}", "", ""},
		{"POST", "/healthcheck", 501, mnaBody, "GET, OPTIONS", ""},
		{"GET", "/healthcheck/", 404, notFoundBody, "", ""},
		{"GET", "/HEALTHCHECK", 404, notFoundBody, "", ""},
		{"DELETE", "/v2/rpc/echo", 501, mnaBody, "GET, OPTIONS, POST", ""},
		{"PUT", "/v2/rpc/echo", 501, mnaBody, "GET, OPTIONS, POST", ""},
		{"POST", "/v2/rpc/echo", 401, "{…", "", ""},
		{"GET", "/V2/rpc/echo", 404, notFoundBody, "", ""},
		{"GET", "/v2", 404, notFoundBody, "", ""},
		{"GET", "/v2/rpc", 404, notFoundBody, "", ""},
		{"PATCH", "/_warden/plugins", 501, mnaBody, "GET, OPTIONS, POST", ""},
		{"GET", "/_warden/plugins/x", 501, mnaBody, "DELETE, OPTIONS, PUT", ""},
		{"GET", "/_warden/nothing", 404, notFoundBody, "", ""},
		{"DELETE", "/_bench/echo", 501, mnaBody, "GET, OPTIONS, POST", ""},
		{"GET", "/nothing", 404, notFoundBody, "", ""},
		{"OPTIONS", "/test", 200, "", "", ""},
	})
}

// TestServer_dispatchParams pins the answers to a plugin whose routes have
// parameters, other methods and a session requirement (host/testdata/web),
// and to one whose pattern begins with parameters and so matches reserved
// paths by shape (host/testdata/catchall).
func TestServer_dispatchParams(t *testing.T) {
	t.Run("web", func(t *testing.T) {
		s, h := dispatchServer(t, "../host/testdata/web.wasm")
		web := "web@" + pluginVersion(t, h, "web")
		checkDispatch(t, s, []dispatchCase{
			{"GET", "/items/42", 200, "42", "", web},
			{"DELETE", "/items/42", 200, "42", "", web},
			{"OPTIONS", "/items/42", 200, "", "", ""}, // the CORS middleware answers OPTIONS
			{"GET", "/items/", 404, notFoundBody, "", ""},
			{"GET", "/items", 404, notFoundBody, "", ""},
			{"GET", "/items/42/", 404, notFoundBody, "", ""},
			{"GET", "/me", 401, "{…", "", ""},
			{"POST", "/created", 201, "-", "", web},
			{"GET", "/created", 404, notFoundBody, "", ""},
		})
	})
	t.Run("catchall", func(t *testing.T) {
		s, h := dispatchServer(t, "../host/testdata/catchall.wasm")
		catchall := "catchall@" + pluginVersion(t, h, "catchall")
		checkDispatch(t, s, []dispatchCase{
			{"PUT", "/x/y/z/w", 200, "plugin", "", catchall},
			{"GET", "/x/y/z/w", 200, "plugin", "", catchall},
			{"GET", "/v2/rpc/a/b", 401, "{…", "", ""},
			{"PUT", "/v2/rpc/a/b", 501, mnaBody, "GET, OPTIONS, POST", ""},
			{"PUT", "/V2/rpc/a/b", 404, notFoundBody, "", ""},
			{"PUT", "/x/../v2/rpc", 404, notFoundBody, "", ""},
			{"PUT", "/healthcheck/a/b/c", 404, notFoundBody, "", ""},
			{"PUT", "/_warden/plugins/a/b", 401, "{…", "", ""},
			{"GET", "/_warden/plugins/a/b", 501, mnaBody, "DELETE, OPTIONS, PUT", ""},
			{"GET", "/_bench/a/b/c", 404, notFoundBody, "", ""},
		})
	})
	// A hostile client's spellings of reserved paths that a proxy might
	// normalise, each four segments long so that the catch-all plugin's
	// pattern matches it by shape: none reaches the plugin.
	t.Run("catchallSpellings", func(t *testing.T) {
		s, _ := dispatchServer(t, "../host/testdata/catchall.wasm")
		for _, p := range []string{"//v2/rpc/a", "/./v2/rpc/a", "/v2/./rpc/a", "/%2E/v2/rpc/a", "/V2/Rpc/a/b", "/_Warden/plugins/a/b",
			"/_warden/x/../plugins/a", "/HEALTHCHECK/a/b/c", "/_BENCH/echo/a/b", "/a/../_warden/console/x",
			// reservedPath's one-pass check of clean ASCII paths, and what
			// it must hand to the full check: mixed case, the Kelvin sign
			// (percent-encoded, decoded in the path), dot elements last.
			"/hEaLtHcHeCk/a/b/c", "/healthchec%E2%84%AA/a/b/c", "/v2/rpc/a/.", "/_wArDeN/plugins/a/..", "/%5FBENCH/a/b/c"} {
			for _, m := range []string{"GET", "PUT", "PATCH"} {
				got := do(t, s, m, p, nil, "")
				if got.body == "plugin" || got.header.Get("Warden-Plugin") != "" {
					t.Errorf("%s %s reached the plugin: %d %q", m, p, got.status, got.body)
				}
			}
		}
		// The control: the same plugin serves a path of that shape that is
		// not reserved, so the loop above can fail.
		if got := do(t, s, "PATCH", "/v3/rpc/a/b", nil, ""); got.body != "plugin" {
			t.Fatalf("PATCH /v3/rpc/a/b: %d %q, want the plugin's answer", got.status, got.body)
		}
	})
}

// TestServer_dispatchRemoved checks that a plugin route stops being served
// once its plugin is removed (the routes' generation changes), and is
// served again once it is deployed again.
func TestServer_dispatchRemoved(t *testing.T) {
	s, h := dispatchServer(t, "../plugins/seed/seed.wasm")
	seed := "seed@" + pluginVersion(t, h, "seed")
	checkDispatch(t, s, []dispatchCase{{"GET", "/test", 200, "You hit the new endpoint!", "", seed}})
	if _, err := h.Remove(context.Background(), "seed"); err != nil {
		t.Fatal(err)
	}
	checkDispatch(t, s, []dispatchCase{{"GET", "/test", 404, notFoundBody, "", ""}, {"GET", "/", 200, "", "", ""}})
	wasm, err := os.ReadFile("../plugins/seed/seed.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Deploy(context.Background(), "seed", wasm); err != nil {
		t.Fatal(err)
	}
	checkDispatch(t, s, []dispatchCase{{"GET", "/test", 200, "You hit the new endpoint!", "", seed}})
}

// TestServer_dispatchSameAsRouter sends every method to many paths, through
// the server's handler and through the built-in router alone (the
// dispatch before its fast path), and checks that the two answers agree
// byte for byte, for plugins with plain, parameter and catch-all routes.
func TestServer_dispatchSameAsRouter(t *testing.T) {
	paths := []string{"/", "/test", "/test/", "/TEST", "//test", "/x/../test", "/items/1", "/items/1/", "/items/",
		"/me", "/created", "/x/y/z/w", "/x/y/z/w/", "/v2/rpc/a", "/V2/rpc/a", "/x/../v2/rpc", "/healthcheck",
		"/healthcheck/", "/healthcheck/a/b/c", "/v2/rpc/echo", "/v2/rpc/", "/_warden/plugins", "/_warden/plugins/a",
		"/_warden/a/b/c", "/_bench/echo", "/_bench/test", "/_bench/a/b", "/nothing", "*", "",
		"/v2/rpc/echo?http_key=" + testHTTPKey + "&unwrap", "/v2/rpc/ECHO?http_key=" + testHTTPKey, "/v2/rpc/a/b?http_key=" + testHTTPKey,
		"/v2/rpc//echo?http_key=" + testHTTPKey, "/v2/rpc/?http_key=" + testHTTPKey, "/v2/rpc?http_key=" + testHTTPKey, "/v2/rpc/x"}
	for _, plugins := range [][]string{
		{"../plugins/seed/seed.wasm", "../plugins/echo/echo.wasm"},
		{"../host/testdata/web.wasm"},
		{"../host/testdata/catchall.wasm"},
	} {
		s, _ := dispatchServer(t, plugins...)
		router := s.middleware(s.routes())
		for _, p := range paths {
			for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"} {
				got, want := httptest.NewRecorder(), httptest.NewRecorder()
				s.Handler().ServeHTTP(got, dispatchRequest(m, p))
				router.ServeHTTP(want, dispatchRequest(m, p))
				if got.Code != want.Code || got.Body.String() != want.Body.String() || !sameHeader(got.Header(), want.Header()) {
					t.Errorf("%v: %s %s: %d %v %q, the router alone: %d %v %q", plugins, m, p,
						got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
				}
			}
		}
	}
}

// dispatchRequest returns a request for target, a path and maybe a query,
// as net/http's server would hand it over, without cleaning the path.
func dispatchRequest(method, target string) *http.Request {
	r := httptest.NewRequest(method, "/", nil)
	r.URL.Path, r.URL.RawQuery, _ = strings.Cut(target, "?")
	r.RequestURI = target
	r.RemoteAddr = "127.0.0.1:40000"
	return r
}

// sameHeader reports whether a and b hold the same values.
func sameHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\n") != strings.Join(b[k], "\n") {
			return false
		}
	}
	return true
}

// pluginVersion returns the version of the named plugin that h serves.
func pluginVersion(t *testing.T, h *host.Host, name string) string {
	t.Helper()
	for _, p := range h.Plugins() {
		if p.Name == name {
			return p.Version
		}
	}
	t.Fatalf("plugin %s is not loaded", name)
	return ""
}

// TestRoutes_builtinPatternsReserved checks what dispatch relies on: every
// built-in route pattern, with every optional group of routes on, is "/"
// or lies under a reserved prefix, so that no path a plugin may serve
// matches a built-in route in any method. It reads the patterns out of
// httprouter v1.3.0's trees, which it does not export.
func TestRoutes_builtinPatternsReserved(t *testing.T) {
	h, err := host.New(context.Background(), host.Config{PluginDir: t.TempDir(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	s, _ := startAccounts(t, Config{Admin: h, Console: http.NotFoundHandler(), NativeEcho: true})
	patterns := routerPatterns(t, s.routes())
	for _, want := range []string{"/", "/healthcheck", "/v2/rpc/*id", "/v2/account", "/_warden/plugins", "/_warden/console/*rest", "/_bench/echo"} {
		if !slices.Contains(patterns, want) {
			t.Fatalf("the patterns read from the router %q lack %s", patterns, want)
		}
	}
	for _, p := range patterns {
		static, _, _ := strings.Cut(p, ":")
		static, _, _ = strings.Cut(static, "*")
		prefix := reservedPath(static)
		if p != "/" && (prefix == "" || static != p && !strings.HasPrefix(strings.ToLower(static), prefix)) {
			t.Errorf("built-in pattern %s is not under a reserved prefix", p)
		}
	}
}

// routerPatterns returns the patterns registered in r, in any method.
func routerPatterns(t *testing.T, r *httprouter.Router) []string {
	t.Helper()
	trees := reflect.ValueOf(r).Elem().FieldByName("trees")
	if trees.Kind() != reflect.Map {
		t.Fatalf("httprouter.Router.trees is a %s, not a map", trees.Kind())
	}
	var out []string
	var walk func(prefix string, n reflect.Value)
	walk = func(prefix string, n reflect.Value) {
		n = n.Elem()
		full := prefix + n.FieldByName("path").String()
		if !n.FieldByName("handle").IsNil() && !slices.Contains(out, full) {
			out = append(out, full)
		}
		children := n.FieldByName("children")
		for i := range children.Len() {
			walk(full, children.Index(i))
		}
	}
	for it := trees.MapRange(); it.Next(); {
		walk("", it.Value())
	}
	return out
}

// TestServer_dispatchCatchAll checks that dispatch finds the RPC route's
// catch-all for its fast path, and only where a catch-all is.
func TestServer_dispatchCatchAll(t *testing.T) {
	s, _ := dispatchServer(t)
	main := s.routes()
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if c := catchAll(main, m, rpcPrefix); c == nil || c.key != "id" {
			t.Errorf("catchAll(%s %s) = %v, want the RPC route's", m, rpcPrefix, c)
		}
	}
	for _, tc := range [][2]string{{"PUT", rpcPrefix}, {"GET", "/v2/rpc/x"}, {"GET", "/v2"}, {"GET", "/healthcheck"}} {
		if c := catchAll(main, tc[0], tc[1]); c != nil {
			t.Errorf("catchAll(%s %s) = %v, want nil", tc[0], tc[1], c)
		}
	}
}
