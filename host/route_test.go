package host

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
)

func TestHost_CallRoute(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "web.wasm"), nil)
	routes, gen := h.Routes()
	if gen == 0 || len(routes) != 4 {
		t.Fatalf("Routes() = %d routes, generation %d", len(routes), gen)
	}
	byPattern := map[string]*Route{}
	for _, r := range routes {
		byPattern[r.Pattern] = r
	}
	if got := strings.Join(byPattern["/items/:id"].Methods, ","); got != "DELETE,GET,HEAD,PATCH,POST,PUT" {
		t.Fatalf("default methods = %s", got)
	}
	if !byPattern["/me"].SessionRequired || byPattern["/test"].SessionRequired {
		t.Fatal("SessionRequired flags are wrong")
	}
	call := func(pattern, method, path string, params [][2]string, req *Request) Result {
		t.Helper()
		req.HTTP = &HTTPRequest{Method: method, Path: path, Route: pattern, Params: params}
		res, err := h.CallRoute(context.Background(), byPattern[pattern], req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	tests := []struct {
		name, pattern, method, path string
		params                      [][2]string
		req                         *Request
		wantStatus                  int
		wantBody                    string
	}{
		{"SeedTest", "/test", "GET", "/test", nil, &Request{}, 200, "You hit the new endpoint!"},
		{"RouteParam", "/items/:id", "GET", "/items/42", [][2]string{{"id", "42"}}, &Request{}, 200, "42"},
		{"SessionUser", "/me", "GET", "/me", nil, &Request{User: &User{ID: "u1"}}, 200, "u1-"},
		{"StatusHeaderBodyAuthorization", "/created", "POST", "/created", nil,
			&Request{Payload: []byte("body;"), Headers: map[string][]string{"Authorization": {"Sig abc"}}}, 201, "body;Sig abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(tt.pattern, tt.method, tt.path, tt.params, tt.req)
			if res.Status != tt.wantStatus || string(res.Output) != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", res.Status, res.Output, tt.wantStatus, tt.wantBody)
			}
		})
	}
	t.Run("Header", func(t *testing.T) {
		res := call("/created", "POST", "/created", nil, &Request{})
		if len(res.Headers) != 1 || res.Headers[0] != [2]string{"X-Made-By", "web"} {
			t.Fatalf("headers = %v", res.Headers)
		}
	})
	t.Run("ErrStatusInRPC", func(t *testing.T) {
		// hostile's oob RPC cannot reach output_set_status; check the host
		// function directly refuses outside HTTP.
		st := &callState{req: &Request{}}
		stack := []uint64{201}
		outputSetStatus(context.Background(), st, nil, stack)
		if int32(stack[0]) != int32(abi.StatusNotAllowed) {
			t.Fatalf("output_set_status in an RPC = %d, want NOT_ALLOWED", int32(stack[0]))
		}
	})
}

func TestHost_New_routeConflicts(t *testing.T) {
	t.Run("ErrTwoPlugins", func(t *testing.T) {
		dir := t.TempDir()
		deploy(t, dir, "web_a", fixture(t, "web.wasm"))
		deploy(t, dir, "web_b", fixture(t, "web.wasm"))
		_, err := New(context.Background(), Config{PluginDir: dir, Logger: newTestLogger(t), StrictLoad: true})
		if err == nil || !strings.Contains(err.Error(), "is registered by both plugin web_a and plugin web_b") {
			t.Fatalf("New() error = %v", err)
		}
	})
	t.Run("ErrChecker", func(t *testing.T) {
		reserved := errors.New("shadows /v2")
		_, err := New(context.Background(), Config{
			PluginDir:   pluginDir(t, "web.wasm"),
			Logger:      newTestLogger(t),
			CheckRoutes: func([]*Route) error { return reserved },
			StrictLoad:  true,
		})
		if !errors.Is(err, reserved) || !strings.Contains(err.Error(), "plugin web") {
			t.Fatalf("New() error = %v, want the checker's error naming the plugin", err)
		}
	})
}

// TestHost_routeHeadersReachingTheOrigin: a plugin route may not send the
// headers that act on the whole origin, which the web console shares
// (managedHeaders): Service-Worker-Allowed, Clear-Site-Data,
// Strict-Transport-Security, Alt-Svc, NEL, Report-To and
// Reporting-Endpoints. The pagejack attack plugin asks for each on
// /sw.js; the route is still served, with its other header.
func TestHost_routeHeadersReachingTheOrigin(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "../../cmd/server/testdata/attacks/pagejack.wasm"), nil)
	routes, _ := h.Routes()
	i := slices.IndexFunc(routes, func(r *Route) bool { return r.Pattern == "/sw.js" })
	if i < 0 {
		t.Fatalf("routes = %v, want /sw.js", routes)
	}
	res, err := h.CallRoute(context.Background(), routes[i], &Request{HTTP: &HTTPRequest{Method: "GET", Path: "/sw.js", Route: "/sw.js"}})
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"Content-Type", "text/javascript"}}
	if !slices.Equal(res.Headers, want) || !strings.Contains(string(res.Output), "addEventListener") {
		t.Fatalf("GET /sw.js: headers %q, body %.40q; want only %q and the script", res.Headers, res.Output, want)
	}
}

// TestHost_CallRoute_replaced calls a route that a reload replaced with
// the same pattern made SESSION_REQUIRED: once the version it belongs to
// has retired, the call is refused (RefusedReplaced, code 14) and runs
// nothing, neither the old version nor the new one, which the caller
// must route and authenticate the request for itself.
func TestHost_CallRoute_replaced(t *testing.T) {
	dir := pluginDir(t, "reroute/hook.wasm")
	h := newTestHost(t, dir, nil)
	routes, _ := h.Routes()
	old := routes[0]
	deploy(t, dir, "hook", fixture(t, "reroute/hook_session.wasm"))
	if res, err := h.Reload(context.Background()); err != nil || len(res.Loaded) != 1 {
		t.Fatalf("reload: %+v %v", res, err)
	}
	for !old.entry.plugin.retired.Load() { // retiring runs in the background
		time.Sleep(time.Millisecond)
	}
	req := &Request{HTTP: &HTTPRequest{Method: "POST", Path: "/hook", Route: "/hook"}}
	res, err := h.CallRoute(context.Background(), old, req)
	var ce *CallError
	if !errors.As(err, &ce) || ce.Code != abi.CodeUnavailable || ce.Refused != RefusedReplaced || ce.Plugin != "hook" || ce.Version != old.Version {
		t.Fatalf("CallRoute(replaced route) = %d %q, %v; want code 14 RefusedReplaced naming hook@%s", res.Status, res.Output, err, old.Version)
	}
	if routes, _ := h.Routes(); len(routes) != 1 || !routes[0].SessionRequired || routes[0].Version == old.Version {
		t.Fatalf("routes after the reload: %+v, want hook's new SESSION_REQUIRED /hook", routes[0])
	}
}
