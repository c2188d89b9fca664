package main

import (
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// TestServer_manifest deploys a plugin's manifest over HTTP against a real
// server (PUT and DELETE /_warden/plugins/{name}/manifest): the grant
// takes effect for the plugin's http_request, a bad manifest is refused
// with 422 and written nowhere, and removing it takes the grant away.
func TestServer_manifest(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "upstream "+r.URL.Path)
	}))
	defer upstream.Close()
	s, dir, _ := deployServer(t, 1<<20)
	key := "?http_key=" + testHTTPKey
	manifestURL := s.URL + "/_warden/plugins/fetch/manifest" + key
	fetch := func() (byte, string) {
		t.Helper()
		res := do(t, "POST", s.URL+"/v2/rpc/fetch?unwrap&http_key="+testHTTPKey,
			string(abi.EncodeHTTPRequest(abi.HTTPRequest{URL: upstream.URL + "/x"})), nil)
		if res.Status != 200 || res.Body == "" {
			t.Fatalf("fetch: %d %q", res.Status, res.Body)
		}
		if res.Body[0] == 1 {
			return 1, res.Body[5:]
		}
		r, err := abi.DecodeHTTPResponse([]byte(res.Body[1:]))
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(r.Body)
	}

	// A manifest before its plugin: checked, written, loaded with it.
	grant := "[http]\nallow = [\"" + upstream.URL + "\"]\n"
	if res := do(t, "PUT", manifestURL, grant, nil); res.Status != 200 {
		t.Fatalf("PUT manifest before the plugin: %d %s", res.Status, res.Body)
	}
	if res := putPlugin(t, s, "fetch", readFixture(t, "host/testdata/fetch.wasm")); res.Status != 200 {
		t.Fatalf("deploy fetch: %d %s", res.Status, res.Body)
	}
	if ok, body := fetch(); ok != 0 || body != "upstream /x" {
		t.Fatalf("granted fetch: %d %q", ok, body)
	}
	if res := do(t, "GET", s.URL+"/_warden/plugins"+key, "", nil); !strings.Contains(res.Body, `"grants":["`+upstream.URL+`"]`) {
		t.Errorf("the listing does not show the grant: %s", res.Body)
	}

	// A bad manifest: 422 naming why; the file and the grant stay.
	before := folder(t, dir)
	for _, bad := range []string{"[http]\nallow = [\"ftp://x\"]\n", "[limits]\ninstances = 100000\n", "[http\n"} {
		res := do(t, "PUT", manifestURL, bad, nil)
		if res.Status != 422 || !strings.Contains(res.Body, "manifest fetch.toml") {
			t.Errorf("PUT %q: %d %s, want 422 naming the manifest", bad, res.Status, res.Body)
		}
	}
	if !sameFolder(before, folder(t, dir)) {
		t.Error("a refused manifest changed the plugin folder")
	}
	if ok, _ := fetch(); ok != 0 {
		t.Fatal("a refused manifest took the grant away")
	}

	// Oversized, unknown plugin, bad name.
	if res := do(t, "PUT", manifestURL, "#"+strings.Repeat("x", 64<<10), nil); res.Status != 400 {
		t.Errorf("oversized manifest: %d %s", res.Status, res.Body)
	}
	if res := do(t, "DELETE", s.URL+"/_warden/plugins/ghost/manifest"+key, "", nil); res.Status != 404 {
		t.Errorf("DELETE manifest of no plugin: %d %s", res.Status, res.Body)
	}
	if res := do(t, "PUT", s.URL+"/_warden/plugins/.x/manifest"+key, grant, nil); res.Status != 400 {
		t.Errorf("bad name: %d %s", res.Status, res.Body)
	}
	if res := do(t, "PUT", s.URL+"/_warden/plugins/fetch/manifest", grant, nil); res.Status != 401 {
		t.Errorf("no HTTP key: %d %s", res.Status, res.Body)
	}

	// DELETE: the plugin reloads with no grants.
	if res := do(t, "DELETE", manifestURL, "", nil); res.Status != 200 || !strings.Contains(res.Body, `"loaded":["fetch"]`) {
		t.Fatalf("DELETE manifest: %d %s", res.Status, res.Body)
	}
	if _, err := os.Stat(filepath.Join(dir, "fetch.toml")); !os.IsNotExist(err) {
		t.Errorf("fetch.toml still there: %v", err)
	}
	if ok, msg := fetch(); ok != 1 || !strings.Contains(msg, "not allowed by the grants") {
		t.Fatalf("after DELETE: %d %q", ok, msg)
	}
}

// TestServer_removePlugin_manifest: DELETE /_warden/plugins/{name}
// removes the plugin's manifest with its file, so that a plugin deployed
// later under the name, without a manifest of its own, does not run under
// the removed plugin's grants; a manifest sent for a plugin still to come
// is removed by name too.
func TestServer_removePlugin_manifest(t *testing.T) {
	s, dir, _ := deployServer(t, 1<<20)
	key := "?http_key=" + testHTTPKey
	wasm := readFixture(t, "host/testdata/fetch.wasm")
	grant := "[http]\nallow = [\"https://api.stripe.com\", \"http://10.0.0.0/8:*\"]\n"
	if res := do(t, "PUT", s.URL+"/_warden/plugins/fetch/manifest"+key, grant, nil); res.Status != 200 {
		t.Fatalf("PUT manifest: %d %s", res.Status, res.Body)
	}
	if res := putPlugin(t, s, "fetch", wasm); res.Status != 200 {
		t.Fatalf("deploy: %d %s", res.Status, res.Body)
	}
	if res := do(t, "DELETE", s.URL+"/_warden/plugins/fetch"+key, "", nil); res.Status != 200 || !strings.Contains(res.Body, `"removed":["fetch"]`) {
		t.Fatalf("DELETE: %d %s", res.Status, res.Body)
	}
	if _, err := os.Stat(filepath.Join(dir, "fetch.toml")); !os.IsNotExist(err) {
		t.Errorf("fetch.toml after DELETE: %v", err)
	}
	// Later, anyone's plugin called fetch, with no manifest.
	if res := putPlugin(t, s, "fetch", wasm); res.Status != 200 {
		t.Fatalf("redeploy: %d %s", res.Status, res.Body)
	}
	if res := do(t, "GET", s.URL+"/_warden/plugins"+key, "", nil); strings.Contains(res.Body, "10.0.0.0/8") {
		t.Errorf("a plugin deployed after DELETE, without a manifest, runs under the removed plugin's grants: %s", res.Body)
	}

	if res := do(t, "PUT", s.URL+"/_warden/plugins/later/manifest"+key, grant, nil); res.Status != 200 {
		t.Fatalf("PUT manifest before its plugin: %d %s", res.Status, res.Body)
	}
	if res := do(t, "DELETE", s.URL+"/_warden/plugins/later"+key, "", nil); res.Status != 200 {
		t.Errorf("DELETE of a manifest alone: %d %s", res.Status, res.Body)
	}
	if _, err := os.Stat(filepath.Join(dir, "later.toml")); !os.IsNotExist(err) {
		t.Errorf("later.toml after DELETE: %v", err)
	}
}

// TestServer_outboundFlags: a CA file that cannot be read, or a bound that
// is not positive, stops the start before the data directory is made.
func TestServer_outboundFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-outbound-ca-file", filepath.Join(t.TempDir(), "missing.pem")},
		{"-outbound-max-requests", "0"},
		{"-outbound-max-response-bytes", "-1"},
	} {
		data := filepath.Join(t.TempDir(), "data")
		args = append([]string{"-plugins", t.TempDir(), "-data", data}, args...)
		err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "outbound") {
			t.Errorf("%v: %v, want an error naming outbound", args, err)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("%v: the data directory was made", args)
		}
	}
}

// multipartBody encodes parts (name, content) as multipart/form-data.
func multipartBody(t *testing.T, parts ...[2]string) (body, contentType string) {
	t.Helper()
	var b strings.Builder
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		w, err := mw.CreateFormFile(p[0], p[0])
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p[1])
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String(), mw.FormDataContentType()
}

// TestServer_deployMultipart deploys a module and its manifest in one
// request: the new plugin serves with its grant at once; a bad manifest
// refuses the pair and writes neither; malformed forms are 400.
func TestServer_deployMultipart(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "up") }))
	defer upstream.Close()
	s, dir, _ := deployServer(t, 1<<20)
	url := s.URL + "/_warden/plugins/fetch?http_key=" + testHTTPKey
	wasm := string(readFixture(t, "host/testdata/fetch.wasm"))
	put := func(parts ...[2]string) response {
		t.Helper()
		body, ct := multipartBody(t, parts...)
		return do(t, "PUT", url, body, map[string]string{"Content-Type": ct})
	}

	before := folder(t, dir)
	if res := put([2]string{"wasm", wasm}, [2]string{"manifest", "[http]\nallow = [\"nope\"]\n"}); res.Status != 422 {
		t.Fatalf("bad manifest: %d %s", res.Status, res.Body)
	}
	// No module, an unknown part, and a part given twice (which one the
	// sender meant is not for the server to guess).
	for _, parts := range [][][2]string{
		{{"manifest", "[http]\n"}},
		{{"wasm", wasm}, {"other", "x"}},
		{{"wasm", wasm}, {"manifest", "[http]\n"}, {"manifest", "[http]\nallow = [\"" + upstream.URL + "\"]\n"}},
		{{"wasm", wasm}, {"wasm", wasm}},
	} {
		if res := put(parts...); res.Status != 400 {
			var names []string
			for _, p := range parts {
				names = append(names, p[0])
			}
			t.Errorf("parts %q: %d %s, want 400", names, res.Status, res.Body)
		}
	}
	if !sameFolder(before, folder(t, dir)) {
		t.Fatal("a refused multipart deploy changed the plugin folder")
	}

	res := put([2]string{"wasm", wasm}, [2]string{"manifest", "[http]\nallow = [\"" + upstream.URL + "\"]\n"})
	if res.Status != 200 || !strings.Contains(res.Body, `"loaded":["fetch"]`) {
		t.Fatalf("deploy: %d %s", res.Status, res.Body)
	}
	out := do(t, "POST", s.URL+"/v2/rpc/fetch?unwrap&http_key="+testHTTPKey,
		string(abi.EncodeHTTPRequest(abi.HTTPRequest{URL: upstream.URL + "/"})), nil)
	if out.Status != 200 || out.Body == "" || out.Body[0] != 0 {
		t.Fatalf("fetch right after the deploy: %d %q", out.Status, out.Body)
	}
	for _, f := range []string{"fetch.wasm", "fetch.toml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestServer_manifestExactKeys deploys manifests over HTTP whose keys are
// spelled in another case than documented. TOML keys are case-sensitive,
// so [ENV] is not [env]; go-toml's decoding is not, and a second spelling
// further down used to replace the first: "[env] allow = []" then "[ENV]
// ALLOW = [\"SECRET\"]" was deployed with 200 and the plugin read SECRET.
// Each such manifest is refused with 422 naming the key and its line, and
// the plugin keeps its manifest.
func TestServer_manifestExactKeys(t *testing.T) {
	dir := fixtureDir(t, "../../host/testdata/fetch.wasm")
	s := startServer(t, append(dataArgs(t, dir), "-watch", "0", "-access-log=false",
		"-env", "SECRET=hunter2", "-env", "API_URL=https://api.example.com")...)
	key := "?http_key=" + testHTTPKey
	env := func() string {
		t.Helper()
		res := do(t, "POST", s.URL+"/v2/rpc/fetch.env?unwrap&http_key="+testHTTPKey, "", nil)
		if res.Status != 200 {
			t.Fatalf("fetch.env: %d %s", res.Status, res.Body)
		}
		return res.Body
	}
	if got := env(); !strings.Contains(got, "hunter2") {
		t.Fatalf("without a manifest the plugin sees %q, want every entry", got)
	}
	if res := do(t, "PUT", s.URL+"/_warden/plugins/fetch/manifest"+key, "[env]\nallow = [\"API_URL\"]\n", nil); res.Status != 200 {
		t.Fatalf("PUT manifest: %d %s", res.Status, res.Body)
	}
	if got := env(); strings.Contains(got, "hunter2") || !strings.Contains(got, "api.example.com") {
		t.Fatalf("under [env] allow = [\"API_URL\"] the plugin sees %q", got)
	}
	wasm := string(readFixture(t, "host/testdata/fetch.wasm"))
	for _, tt := range []struct{ name, toml, want string }{
		{"Table", "# reviewed: API_URL only\n[env]\nallow = [\"API_URL\"]\n\n[ENV]\nALLOW = [\"SECRET\"]\n",
			"unknown key ENV (line 5), not env: keys are case-sensitive"},
		{"Key", "[env]\nallow = [\"API_URL\"]\nAllow = [\"SECRET\"]\n", "unknown key env.Allow (line 3)"},
		{"HTTP", "[http]\nallow = []\nAllow = [\"http://10.0.0.0/8:*\"]\n", "unknown key http.Allow (line 3)"},
		{"Limits", "[limits]\nmemory_mib = 16\nMemory_MiB = 0\n", "unknown key limits.Memory_MiB (line 3)"},
		{"Twice", "env.allow = [\"API_URL\"]\n[env]\nallow = [\"SECRET\"]\n", "table env given twice (lines 1 and 2)"},
	} {
		t.Run("Err"+tt.name, func(t *testing.T) {
			res := do(t, "PUT", s.URL+"/_warden/plugins/fetch/manifest"+key, tt.toml, nil)
			if res.Status != 422 || !strings.Contains(res.Body, tt.want) {
				t.Errorf("PUT manifest: %d %s, want 422 naming %q", res.Status, res.Body, tt.want)
			}
			body, ctype := multipartBody(t, [2]string{"wasm", wasm}, [2]string{"manifest", tt.toml})
			res = do(t, "PUT", s.URL+"/_warden/plugins/fetch"+key, body, map[string]string{"Content-Type": ctype})
			if res.Status != 422 || !strings.Contains(res.Body, tt.want) {
				t.Errorf("PUT plugin with manifest: %d %s, want 422 naming %q", res.Status, res.Body, tt.want)
			}
			if got := env(); strings.Contains(got, "hunter2") {
				t.Fatalf("after a refused manifest the plugin sees %q", got)
			}
		})
	}
}
