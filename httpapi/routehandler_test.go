package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/host"
)

// TestServer_pluginRouteAcrossReload sends plugin route requests that are
// routed, and authenticated, before a deploy replaces the route's plugin
// and call the plugin after the version they were routed to has retired
// (their body arrives in between, as a slow client's does). Each is
// served as a request sent after the deploy would be: authenticated
// against the route that runs it, with its parameters under that route's
// names.
func TestServer_pluginRouteAcrossReload(t *testing.T) {
	bearer := "Bearer " + token(t, testEncKey, validClaims())
	webhook := basic("webhook:secret") // an open route's own credential, not a session
	tests := []struct {
		name          string
		fixture, next string // host/testdata/reroute/<name>.wasm before and after
		method, path  string
		authz         string
		status        int
		body          string
	}{
		// The route is SESSION_REQUIRED now: a request without a session is
		// refused, as it would be if sent now, and never shows the session
		// route an Authorization header.
		{"SessionRequiredNow", "hook", "hook_session", "POST", "/hook", webhook, 401, `{"code":16,"message":"Auth token invalid"}`},
		{"SessionRequiredNowWithSession", "hook", "hook_session", "POST", "/hook", bearer, 200, "user=" + validClaims().UserID},
		// The route is open now: it sees the Authorization header, which
		// the session route it was routed to would not have.
		{"OpenNow", "hook_session", "hook", "POST", "/hook", bearer, 200, "open authz=" + bearer},
		// The route serves the same paths under another parameter name: the
		// request is looked up again, its parameter renamed.
		{"ParamRenamed", "items", "items_key", "POST", "/items/7", "", 200, "key=7"},
		// No route serves the path now: grpc-gateway's Not Found, as for
		// any path no route serves.
		{"RouteGone", "items", "hook", "POST", "/items/7", "", 404, `{"code":5,"message":"Not Found"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, h := dispatchServer(t, filepath.Join("..", "host", "testdata", "reroute", tt.fixture+".wasm"))
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader("hello"))
			if tt.authz != "" {
				req.Header.Set("Authorization", tt.authz)
			}
			w := serveAcrossReload(t, s, h, req, tt.fixture, tt.next)
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Fatalf("%s %s across the reload: %d %q, want %d %q", tt.method, tt.path, w.Code, w.Body, tt.status, tt.body)
			}
			if want := tt.fixture + "@" + pluginVersion(t, h, tt.fixture); tt.status == 200 && w.Header().Get(headerPlugin) != want {
				t.Errorf("Warden-Plugin %q, want %q", w.Header().Get(headerPlugin), want)
			}
		})
	}
}

// TestServer_pluginRouteAcrossReload_bounded: a request whose route every
// call finds replaced, as if reloads kept overtaking it, is routed again
// maxReroutes times and then refused with the host's code 14, which a
// client may retry.
func TestServer_pluginRouteAcrossReload_bounded(t *testing.T) {
	rc := &reloadingRoutes{}
	s := startServer(t, Config{Routes: rc})
	res := do(t, s, "POST", "/hook", nil, "hello")
	if res.status != 503 || res.body != `{"code":14,"message":"plugin route was reloaded, retry"}` {
		t.Fatalf("POST /hook: %d %q, want 503 and the retry message", res.status, res.body)
	}
	if n := rc.calls.Load(); n != maxReroutes+1 {
		t.Fatalf("%d calls, want %d: the first and maxReroutes more", n, maxReroutes+1)
	}
}

// reloadingRoutes is a RouteCaller with one open route, POST /hook, which
// a reload replaces whenever it is called: each call is refused as the
// host refuses a route that a reload retired.
type reloadingRoutes struct{ calls atomic.Uint64 }

func (rc *reloadingRoutes) Routes() ([]*host.Route, uint64) {
	gen := rc.calls.Load()
	return []*host.Route{{Plugin: "hook", Version: fmt.Sprint(gen), Pattern: "/hook", Methods: []string{"POST"}}}, gen
}

func (rc *reloadingRoutes) CallRoute(_ context.Context, r *host.Route, _ *host.Request) (host.Result, error) {
	rc.calls.Add(1)
	return host.Result{}, &host.CallError{Code: abi.CodeUnavailable, Refused: host.RefusedReplaced, Plugin: r.Plugin, Version: r.Version}
}

// serveAcrossReload serves req, a request to a route of plugin, with its
// body held back: once the handler begins to read it (the request was
// routed and authenticated), plugin is deployed as the fixture next and
// the version req was routed to retires; then the body arrives.
func serveAcrossReload(t *testing.T, s *Server, h *host.Host, req *http.Request, plugin, next string) *httptest.ResponseRecorder {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join("..", "host", "testdata", "reroute", next+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	routes, _ := h.Routes()
	var old *host.Route
	for _, r := range routes {
		if r.Plugin == plugin {
			old = r
		}
	}
	if old == nil {
		t.Fatalf("plugin %s serves no route", plugin)
	}
	body := &heldBody{ReadCloser: req.Body, hold: func() {
		if res, err := h.Deploy(context.Background(), plugin, wasm); err != nil || len(res.Failed) != 0 {
			t.Fatalf("deploy %s as %s: %+v %v", next, plugin, res, err)
		}
		waitRetired(t, h, old, req)
	}}
	req.Body = body
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	if !body.held {
		t.Fatalf("%s %s was answered before its body was read: %d %q", req.Method, req.URL.Path, w.Code, w.Body)
	}
	return w
}

// heldBody is a request body whose first Read calls hold first.
type heldBody struct {
	io.ReadCloser
	hold func()
	held bool
}

func (b *heldBody) Read(p []byte) (int, error) {
	if !b.held {
		b.held = true
		b.hold()
	}
	return b.ReadCloser.Read(p)
}

// waitRetired waits until the plugin version of route, which a reload
// replaced, no longer answers req's method and path on it: a replaced
// version retires in the background, once the reload has swapped it out.
func waitRetired(t *testing.T, h *host.Host, route *host.Route, req *http.Request) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		call := &host.Request{HTTP: &host.HTTPRequest{Method: req.Method, Path: req.URL.Path, Route: route.Pattern}}
		if res, err := h.CallRoute(context.Background(), route, call); err != nil || res.Version != route.Version {
			return
		}
	}
	t.Fatalf("%s@%s still answers %s after a reload replaced it", route.Plugin, route.Version, route.Pattern)
}
