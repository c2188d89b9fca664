package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestServer_customHTTP serves the web fixture's routes through the real
// server: the seed's GET /test, a route parameter, a session-only route,
// and a handler that sets status, header and body.
func TestServer_customHTTP(t *testing.T) {
	s := startServer(t, dataArgs(t, fixtureDir(t, "../../host/testdata/web.wasm"))...)
	bearer := map[string]string{"Authorization": "Bearer " + token(t, aliceID, "alice", time.Now().Add(time.Hour))}
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		wantStatus               int
		wantBody                 string
	}{
		{"SeedTest", "GET", "/test", "", nil, 200, "You hit the new endpoint!"},
		{"RouteParam", "GET", "/items/42", "", nil, 200, "42"},
		{"SessionRequired", "GET", "/me", "", bearer, 200, aliceID + "-"},
		{"ErrSessionMissing", "GET", "/me", "", nil, 401, `{"code":16,"message":"Auth token invalid"}`},
		{"ErrSessionExpired", "GET", "/me", "", map[string]string{"Authorization": "Bearer " + token(t, aliceID, "a", time.Now().Add(-time.Hour))}, 401, `{"code":16,"message":"Auth token invalid"}`},
		{"OpenSeesAuthorization", "POST", "/created", "hi;", map[string]string{"Authorization": "Sig abc"}, 201, "hi;Sig abc"},
		{"ErrBodyTooLarge", "POST", "/created", strings.Repeat("x", 256<<10+1), nil, 400, `{"code":3, "message":"http: request body too large"}`},
		{"ErrWrongMethod", "PUT", "/test", "", nil, 404, `{"code":5,"message":"Not Found"}`},
		{"ErrUnknownPath", "GET", "/nope", "", nil, 404, `{"code":5,"message":"Not Found"}`},
		{"BuiltinStillServes", "GET", "/healthcheck", "", nil, 200, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, tt.method, s.URL+tt.path, tt.body, tt.header)
			if res.Status != tt.wantStatus || res.Body != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", res.Status, res.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	t.Run("Headers", func(t *testing.T) {
		res := do(t, "POST", s.URL+"/created", "", nil)
		if res.Header.Get("X-Made-By") != "web" || !strings.HasPrefix(res.Header.Get("Warden-Plugin"), "web@") {
			t.Fatalf("headers %v", res.Header)
		}
		// The access log line names the plugin version too.
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(s.logs.String(), `"plugin":"`+res.Header.Get("Warden-Plugin")+`"`) {
			if time.Now().After(deadline) {
				t.Fatalf("no log line names %s", res.Header.Get("Warden-Plugin"))
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// TestServer_pluginShadowsBuiltin checks that a plugin registering a path
// Warden serves is refused at start, naming the plugin and the path: with
// -strict-plugins the server does not start; without it, the server serves
// without the plugin and lists its failure.
func TestServer_pluginShadowsBuiltin(t *testing.T) {
	dir := fixtureDir(t, "../../host/testdata/bad/shadow.wasm", "../../host/testdata/bad/init_traps.wasm")
	t.Run("Strict", func(t *testing.T) {
		args := append(dataArgs(t, dir), "-addr", "127.0.0.1:0", "-strict-plugins")
		err := run(t.Context(), args, func(string) string { return "" }, &strings.Builder{}, &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), "plugin shadow") || !strings.Contains(err.Error(), "/healthcheck") ||
			!strings.Contains(err.Error(), "plugin init_traps") {
			t.Fatalf("run() error = %v, want a refusal listing shadow (with /healthcheck) and init_traps", err)
		}
	})
	t.Run("Tolerant", func(t *testing.T) {
		s := startServer(t, dataArgs(t, dir)...)
		if res := do(t, "GET", s.URL+"/healthcheck", "", nil); res.Status != 200 || res.Body != "{}" {
			t.Fatalf("healthcheck: %d %q", res.Status, res.Body)
		}
		out := listPlugins(t, s)
		if len(out.Plugins) != 0 || len(out.Errors) != 2 || out.Errors[0].Plugin != "init_traps" || out.Errors[1].Plugin != "shadow" {
			t.Fatalf("listing %+v, want no plugin and the two failures", out)
		}
	})
}

// pluginListing is the part of GET /_warden/plugins these tests read.
type pluginListing struct {
	Plugins []struct{ Name string }
	Errors  []struct {
		Plugin, Path, Error string
		RPCs                []string
	}
}

func listPlugins(t *testing.T, s *server) pluginListing {
	t.Helper()
	res := do(t, "GET", s.URL+"/_warden/plugins?http_key="+testHTTPKey, "", nil)
	var out pluginListing
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil || res.Status != 200 {
		t.Fatalf("listing: %d %s", res.Status, res.Body)
	}
	return out
}

// TestServer_hotReload swaps a plugin between two versions 20 times, by the
// watcher and by the admin endpoint, while clients call its RPC and its
// HTTP route; a broken and a half-written version are dropped in too. No
// request may fail, each answer must come from v1 or v2 and name that
// version in its Warden-Plugin header, and the broken version never serves.
func TestServer_hotReload(t *testing.T) {
	dir := t.TempDir()
	v1, _ := os.ReadFile("../../host/testdata/reload/ver_v1.wasm")
	v2, _ := os.ReadFile("../../host/testdata/reload/ver_v2.wasm")
	broken, _ := os.ReadFile("../../host/testdata/bad/init_traps.wasm")
	deployFile(t, dir, v1)
	s := startServer(t, append(dataArgs(t, dir), "-watch", "20ms", "-access-log=false")...)
	admin := s.URL + "/_warden/plugins?http_key=" + testHTTPKey

	var calls, failures atomic.Int64
	var lastFailure atomic.Value
	versions := sync.Map{} // Warden-Plugin header -> body
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := "/ver"
				if (w+i)%2 == 0 {
					path = "/v2/rpc/ver?unwrap&http_key=" + testHTTPKey
				}
				res := do(t, "GET", s.URL+path, "", nil)
				calls.Add(1)
				if res.Status != 200 || (res.Body != "v1" && res.Body != "v2") {
					failures.Add(1)
					lastFailure.Store(fmt.Sprintf("%s: %d %s", path, res.Status, res.Body))
					continue
				}
				if prev, loaded := versions.LoadOrStore(res.Header.Get("Warden-Plugin"), res.Body); loaded && prev != res.Body {
					failures.Add(1)
					lastFailure.Store("one version answered both v1 and v2")
				}
			}
		}()
	}
	for i := range 20 {
		deployFile(t, dir, [][]byte{v2, v1}[i%2])
		if i%2 == 0 { // the admin endpoint reloads at once
			if res := do(t, "POST", admin, "", nil); res.Status != 200 {
				t.Fatalf("reload %d: %d %s", i, res.Status, res.Body)
			}
		} else { // the watcher picks the change up
			time.Sleep(120 * time.Millisecond)
		}
		switch i {
		case 6:
			deployFile(t, dir, broken)
			if res := do(t, "POST", admin, "", nil); res.Status != 422 || !strings.Contains(res.Body, "warden_init") {
				t.Fatalf("broken version: %d %s", res.Status, res.Body)
			}
		case 12:
			_ = os.WriteFile(filepath.Join(dir, "ver.wasm"), v1[:len(v1)/3], 0o644)
			if res := do(t, "POST", admin, "", nil); res.Status != 422 {
				t.Fatalf("half-written version: %d %s", res.Status, res.Body)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if f := failures.Load(); f != 0 {
		t.Fatalf("%d of %d requests failed during reloads; last: %v", f, calls.Load(), lastFailure.Load())
	}
	n := 0
	versions.Range(func(any, any) bool { n++; return true })
	t.Logf("%d requests, 0 failed, answered by %d plugin versions", calls.Load(), n)
	if n != 2 {
		t.Fatalf("answers came from %d versions, want exactly v1 and v2", n)
	}
	checkListing(t, admin)
}

// checkListing checks the admin listing after the reloads: one plugin,
// with its RPC and route, at most its pool's instances, and no load error:
// the broken version was replaced by a good one.
func checkListing(t *testing.T, admin string) {
	t.Helper()
	res := do(t, "GET", admin, "", nil)
	var out struct {
		Goroutines int
		Plugins    []struct {
			Name, Version string
			RPCs          []struct{ ID string }
			Routes        []string
			Instances     int
			LastError     *struct{ Error string } `json:"last_error"`
		}
	}
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil || len(out.Plugins) != 1 {
		t.Fatalf("listing: %d %s", res.Status, res.Body)
	}
	p := out.Plugins[0]
	if p.Name != "ver" || len(p.RPCs) != 1 || p.RPCs[0].ID != "ver" || len(p.Routes) != 1 || p.Routes[0] != "GET /ver" {
		t.Fatalf("listing: %+v", p)
	}
	if p.LastError != nil {
		t.Fatalf("listing keeps the broken version's error %+v after a good version loaded", p.LastError)
	}
	if out.Goroutines <= 0 {
		t.Fatalf("listing reports %d goroutines", out.Goroutines)
	}
	if res := do(t, "GET", strings.Split(admin, "?")[0], "", nil); res.Status != 401 {
		t.Fatalf("admin without the key: %d", res.Status)
	}
}

// deployFile installs wasm as dir/ver.wasm by writing a temporary file and
// renaming it, the safe way to deploy.
func deployFile(t *testing.T, dir string, wasm []byte) {
	t.Helper()
	tmp := filepath.Join(dir, ".ver.wasm.tmp")
	if err := os.WriteFile(tmp, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "ver.wasm")); err != nil {
		t.Fatal(err)
	}
}

// TestServer_reloadOnSIGHUP deploys a new version with the watcher off and
// sends the process SIGHUP: the new version must serve.
func TestServer_reloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	v1, _ := os.ReadFile("../../host/testdata/reload/ver_v1.wasm")
	v2, _ := os.ReadFile("../../host/testdata/reload/ver_v2.wasm")
	deployFile(t, dir, v1)
	s := startServer(t, append(dataArgs(t, dir), "-watch", "0")...)
	deployFile(t, dir, v2)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := do(t, "GET", s.URL+"/ver", "", nil)
		if res.Body == "v2" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d %q 10s after SIGHUP", res.Status, res.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
