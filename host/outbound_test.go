package host

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
)

// fetchResult is what the fetch fixture answered: the response, or the
// failure's status and message.
type fetchResult struct {
	res    abi.HTTPResponse
	status abi.Status
	msg    string
}

// fetch calls the "fetch" rpc of testdata/fetch.wasm with r.
func fetch(t testing.TB, h *Host, r abi.HTTPRequest) fetchResult {
	t.Helper()
	return fetchAs(t, h, "fetch", r)
}

// fetchAs calls the rpc of a copy of testdata/fetch.wasm named plugin.
func fetchAs(t testing.TB, h *Host, plugin string, r abi.HTTPRequest) fetchResult {
	t.Helper()
	out, err := h.Call(context.Background(), &Request{ID: plugin, Payload: abi.EncodeHTTPRequest(r)})
	if err != nil {
		t.Fatalf("call fetch: %v", err)
	}
	return decodeFetch(t, out.Output)
}

func decodeFetch(t testing.TB, out []byte) fetchResult {
	t.Helper()
	if len(out) == 0 {
		t.Fatal("fetch wrote nothing")
	}
	if out[0] == 1 {
		return fetchResult{status: abi.Status(int32(binary.LittleEndian.Uint32(out[1:5]))), msg: string(out[5:])}
	}
	res, err := abi.DecodeHTTPResponse(out[1:])
	if err != nil {
		t.Fatalf("decode response: %v", err)
	}
	return fetchResult{res: res}
}

// writeManifest writes NAME.toml into dir.
func writeManifest(t testing.TB, dir, name, toml string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name+".toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
}

func helloServer(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-From", "test")
		io.WriteString(w, "hello "+r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPRequest(t *testing.T) {
	srv := helloServer(t)
	dir := pluginDir(t, "fetch.wasm")
	writeManifest(t, dir, "fetch", "[http]\nallow = [\""+srv.URL+"\"]\n")
	h := newTestHost(t, dir, nil)

	t.Run("OK", func(t *testing.T) {
		got := fetch(t, h, abi.HTTPRequest{URL: srv.URL + "/a"})
		if got.status != 0 || got.res.Status != 200 || string(got.res.Body) != "hello /a" {
			t.Fatalf("%+v", got)
		}
		found := false
		for _, hd := range got.res.Headers {
			found = found || hd == [2]string{"x-from", "test"}
		}
		if !found {
			t.Errorf("headers %v lack x-from", got.res.Headers)
		}
	})
	t.Run("ErrNotGranted", func(t *testing.T) {
		got := fetch(t, h, abi.HTTPRequest{URL: "http://127.0.0.2:1/x?k=v"})
		if got.status != abi.StatusNotGranted || got.msg != `http_request: GET http://127.0.0.2:1/x not allowed by the grants of plugin "fetch"` {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("ErrBadArgument", func(t *testing.T) {
		out, err := h.Call(context.Background(), &Request{ID: "fetch", Payload: []byte{1, 2, 3}})
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeFetch(t, out.Output); got.status != abi.StatusBadArgument {
			t.Fatalf("%+v", got)
		}
	})
}

// TestHTTPRequest_noManifest: a plugin without a manifest has no grants.
func TestHTTPRequest_noManifest(t *testing.T) {
	srv := helloServer(t)
	h := newTestHost(t, pluginDir(t, "fetch.wasm"), nil)
	if got := fetch(t, h, abi.HTTPRequest{URL: srv.URL}); got.status != abi.StatusNotGranted {
		t.Fatalf("%+v", got)
	}
}

// TestManifest_reload: a manifest-only change reloads the plugin; a bad
// manifest is refused, listed, and the version serving keeps its grants.
func TestManifest_reload(t *testing.T) {
	srv := helloServer(t)
	dir := pluginDir(t, "fetch.wasm")
	h := newTestHost(t, dir, nil)
	get := abi.HTTPRequest{URL: srv.URL + "/"}
	if got := fetch(t, h, get); got.status != abi.StatusNotGranted {
		t.Fatalf("before the manifest: %+v", got)
	}

	writeManifest(t, dir, "fetch", "[http]\nallow = [\""+srv.URL+"\"]\n")
	res, err := h.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Loaded) != 1 || res.Loaded[0] != "fetch" {
		t.Fatalf("a manifest-only change loaded %v, want [fetch]", res.Loaded)
	}
	if got := fetch(t, h, get); got.status != 0 || got.res.Status != 200 {
		t.Fatalf("after the manifest: %+v", got)
	}
	if res, _ := h.Reload(context.Background()); len(res.Loaded) != 0 {
		t.Fatalf("an unchanged manifest reloaded %v", res.Loaded)
	}

	for _, bad := range []string{"[http]\nalow = []\n", "[limits]\ninstances = 100000\n", "[http]\nallow = [\"gopher://x\"]\n"} {
		writeManifest(t, dir, "fetch", bad)
		res, err = h.Reload(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Err.Error(), "manifest fetch.toml") {
			t.Fatalf("bad manifest %q: failed %v", bad, res.Failed)
		}
		if errs := h.LoadErrors(); len(errs) != 1 || errs[0].Plugin != "fetch" {
			t.Fatalf("load errors %v", errs)
		}
		if got := fetch(t, h, get); got.status != 0 {
			t.Fatalf("the serving version lost its grants: %+v", got)
		}
	}

	if err := os.Remove(filepath.Join(dir, "fetch.toml")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, h, get); got.status != abi.StatusNotGranted {
		t.Fatalf("after removing the manifest: %+v", got)
	}
}

// TestManifest_watch: the watcher sees a manifest-only change.
func TestManifest_watch(t *testing.T) {
	srv := helloServer(t)
	h, eventually := watchedHost(t, pluginDir(t, "fetch.wasm"))
	writeManifest(t, h.cfg.PluginDir, "fetch", "[http]\nallow = [\""+srv.URL+"\"]\n")
	eventually("applied the manifest", func() bool { return fetch(t, h, abi.HTTPRequest{URL: srv.URL}).status == 0 })
}

// watchedHost starts a host on dir with its watcher polling every 10 ms,
// and waits for the watcher to load a new plugin, other.wasm, so that it
// has applied a state that a manifest alone then changes. It returns the
// host and a wait of up to 30 s for what the watcher should bring about.
func watchedHost(t *testing.T, dir string) (*Host, func(what string, ok func() bool)) {
	t.Helper()
	h := newTestHost(t, dir, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go h.Watch(ctx, 10*time.Millisecond)
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the watcher never %s", what)
			}
		}
	}
	deploy(t, dir, "other", fixture(t, "fetch.wasm"))
	eventually("loaded other.wasm", func() bool {
		_, err := h.Call(context.Background(), &Request{ID: "other.env"})
		return err == nil
	})
	return h, eventually
}

func TestManifest_badAtStart(t *testing.T) {
	dir := pluginDir(t, "fetch.wasm")
	writeManifest(t, dir, "fetch", "[limits]\nmemory_mib = 100000\n")
	h := newTestHost(t, dir, nil)
	errs := h.LoadErrors()
	if len(errs) != 1 || !strings.Contains(errs[0].Err.Error(), "[limits] memory_mib is 100000, over the server's maximum 32 (-max-memory)") {
		t.Fatalf("load errors %v", errs)
	}
	if len(h.Plugins()) != 0 {
		t.Fatal("a plugin with a bad manifest serves")
	}
}

func TestManifest_env(t *testing.T) {
	env := map[string]string{"API_URL": "https://api.example.com", "DB_PASSWORD": "secret"}
	for _, tt := range []struct {
		name, toml string
		want       map[string]string
	}{
		{"OKAll", "", env},
		{"OKAllowed", "[env]\nallow = [\"API_URL\", \"MISSING\"]\n", map[string]string{"API_URL": env["API_URL"]}},
		{"OKNone", "[env]\nallow = []\n", map[string]string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := pluginDir(t, "fetch.wasm")
			if tt.toml != "" {
				writeManifest(t, dir, "fetch", tt.toml)
			}
			h := newTestHost(t, dir, func(c *Config) { c.Env = env })
			out, err := h.Call(context.Background(), &Request{ID: "fetch.env"})
			if err != nil {
				t.Fatal(err)
			}
			if want := encodeStringMap(tt.want); string(out.Output) != want {
				t.Fatalf("env %q, want %q", out.Output, want)
			}
		})
	}
}

func TestManifest_limits(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir := pluginDir(t, "fetch.wasm")
		writeManifest(t, dir, "fetch", "[limits]\nmemory_mib = 16\ninstances = 2\ncall_timeout = \"3s\"\n")
		h := newTestHost(t, dir, nil)
		p := h.Plugins()[0]
		if p.pool.max != 2 || p.callTimeout != 3*time.Second {
			t.Errorf("instances %d, call timeout %s", p.pool.max, p.callTimeout)
		}
		mem := p.compiled.ExportedMemories()[abi.ExportMemory]
		if max, ok := mem.Max(); !ok || max != 16*abi.PagesPerMiB {
			t.Errorf("memory max %d pages (declared %v), want %d", max, ok, 16*abi.PagesPerMiB)
		}
	})
	t.Run("ErrInitialMemoryOver", func(t *testing.T) {
		dir := pluginDir(t, "fetch.wasm")
		writeManifest(t, dir, "fetch", "[limits]\nmemory_mib = 4\n")
		h := newTestHost(t, dir, nil)
		if errs := h.LoadErrors(); len(errs) != 1 || !strings.Contains(errs[0].Err.Error(), "starts at 128 pages (8 MiB), over 4 MiB") {
			t.Fatalf("load errors %v", errs)
		}
	})
}

// TestHTTPRequest_slowPluginDoesNotStarveOthers: 100 concurrent calls of
// one plugin to a server that holds them take all that plugin's instances;
// another plugin, with a pool of its own, still answers meanwhile.
func TestHTTPRequest_slowPluginDoesNotStarveOthers(t *testing.T) {
	const instances = 4
	release := make(chan struct{})
	var held sync.WaitGroup
	var inFlight, most, entered atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			if entered.Add(1) <= instances {
				held.Done()
			}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "ok")
	}))
	defer slow.Close()
	dir := t.TempDir()
	wasm := fixture(t, "fetch.wasm")
	for _, name := range []string{"slowpoke", "quick"} {
		sub := filepath.Join(dir, name)
		os.Mkdir(sub, 0o755)
		deploy(t, sub, name, wasm)
		writeManifest(t, dir, name, "[http]\nallow = [\""+slow.URL+"\"]\n") // at the top: manifestPath
	}
	h := newTestHost(t, dir, func(c *Config) { c.MaxInstances = instances; c.CallTimeout = 60 * time.Second })

	held.Add(instances)
	var wg sync.WaitGroup
	results := make(chan fetchResult, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- fetchAs(t, h, "slowpoke", abi.HTTPRequest{URL: slow.URL + "/slow"})
		}()
	}
	// Every instance of slowpoke is inside a request once held is done;
	// a call that returns before (its request refused, say) fails the
	// test rather than leave it waiting for a request that never comes.
	allHeld := make(chan struct{})
	go func() { held.Wait(); close(allHeld) }()
	select {
	case <-allHeld:
	case got := <-results:
		close(release)
		wg.Wait()
		t.Fatalf("a call of slowpoke returned before %d were held in its requests: %+v", instances, got)
	}
	if n := h.reg.Load().plugin("slowpoke").Instances(); n != instances {
		t.Errorf("slowpoke has %d instances, want %d", n, instances)
	}
	// quick answers while slowpoke's 100 calls are held or waiting.
	if got := fetchAs(t, h, "quick", abi.HTTPRequest{URL: slow.URL + "/fast"}); got.status != 0 || string(got.res.Body) != "ok" {
		t.Fatalf("quick: %+v", got)
	}
	close(release)
	wg.Wait()
	close(results)
	if most.Load() > instances {
		t.Errorf("%d requests of slowpoke were in flight at once, more than its %d instances", most.Load(), instances)
	}
	for got := range results {
		if got.status != 0 || string(got.res.Body) != "ok" {
			t.Errorf("slowpoke: %+v", got)
		}
	}
}

// TestHTTPRequest_timeoutIsAStatus: a service that never answers costs the
// plugin its manifest's timeout and an HTTP_FAILED status, not its call.
func TestHTTPRequest_timeoutIsAStatus(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	silent := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer silent.Close()
	dir := pluginDir(t, "fetch.wasm")
	writeManifest(t, dir, "fetch", "[http]\nallow = [\""+silent.URL+"\"]\ntimeout = \"300ms\"\nmax_request_bytes = 1000\n")
	h := newTestHost(t, dir, nil)
	got := fetch(t, h, abi.HTTPRequest{URL: silent.URL + "/"})
	if got.status != abi.StatusHTTPFailed || !strings.Contains(got.msg, "timed out after 300ms") {
		t.Fatalf("%+v", got)
	}
	big := fetch(t, h, abi.HTTPRequest{Method: "POST", URL: silent.URL + "/", Body: make([]byte, 1001)})
	if big.status != abi.StatusLimitExceeded || !strings.Contains(big.msg, "max_request_bytes, 1000") {
		t.Fatalf("a body over max_request_bytes: %+v", big)
	}
}

// TestHTTPRequest_callDeadline: a call whose deadline passes during
// http_request ends with code 4, and the plugin serves the next call.
func TestHTTPRequest_callDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	dir := pluginDir(t, "fetch.wasm")
	writeManifest(t, dir, "fetch", "[http]\nallow = [\""+srv.URL+"\"]\n") // timeout 5s, after the deadline
	// A deadline well above a call's time on a loaded machine, so that only
	// the hanging request reaches it.
	h := newTestHost(t, dir, func(c *Config) { c.CallTimeout = 2 * time.Second })
	for range 2 {
		ce := callErr(t, h, &Request{ID: "fetch", Payload: abi.EncodeHTTPRequest(abi.HTTPRequest{URL: srv.URL + "/hang"})})
		if ce.Code != abi.CodeDeadlineExceeded {
			t.Fatalf("code %d (%v), want 4", ce.Code, ce)
		}
		if got := fetch(t, h, abi.HTTPRequest{URL: srv.URL + "/"}); got.status != 0 || string(got.res.Body) != "ok" {
			t.Fatalf("the next call: %+v", got)
		}
	}
}

// TestHTTPRequest_logBudget: the outbound client's line per request is
// one of the plugin's log lines, and spends its log budget as its log
// calls do: past the burst, a line is dropped and counted in the
// budget's report, and the request is answered all the same. A failed
// request's line is no exception.
func TestHTTPRequest_logBudget(t *testing.T) {
	const burst, over = abi.MaxLogBurstLines, 500
	srv := helloServer(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // its address refuses connections: HTTP_FAILED
	dir := pluginDir(t, "fetch.wasm")
	writeManifest(t, dir, "fetch", "[http]\nallow = [\""+srv.URL+"\", \""+gone.URL+"\"]\n")
	logs := newLogTallyOf(t, "fetch")
	h := newTestHost(t, dir, func(c *Config) { c.Logger = zerolog.New(logs).Level(zerolog.InfoLevel) })
	freezeLogBudget(t, h)
	logs.reset()
	for i := range burst + over {
		if got := fetch(t, h, abi.HTTPRequest{URL: srv.URL + "/a"}); got.status != 0 || got.res.Status != 200 {
			t.Fatalf("request %d: %+v", i, got)
		}
	}
	if got := fetch(t, h, abi.HTTPRequest{URL: gone.URL}); got.status != abi.StatusHTTPFailed {
		t.Fatalf("request to a closed server: %+v, want HTTP_FAILED", got)
	}
	got := closeAndTally(t, h, logs)
	if n := got.messages["outbound request"]; n != burst || got.dropped != over+1 {
		t.Errorf("%d outbound request lines written and %d reported dropped; want %d and %d (the plugin's log budget)",
			n, got.dropped, burst, over+1)
	}
	if n := got.messages["outbound request failed"]; n != 0 {
		t.Errorf("%d outbound request failed lines written over the budget, want 0", n)
	}
}
