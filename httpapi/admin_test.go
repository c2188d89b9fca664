package httpapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// listing is the part of GET /_warden/plugins these tests read.
type listing struct {
	Plugins []struct {
		Name, Path string
		LastError  *loadErrJSON `json:"last_error"`
	}
	Errors []loadErrJSON
}

func getListing(t *testing.T, s *Server) listing {
	t.Helper()
	res := do(t, s, "GET", adminPluginsPath+"?http_key="+testHTTPKey, nil, "")
	var out listing
	if err := json.Unmarshal([]byte(res.body), &out); err != nil || res.status != 200 {
		t.Fatalf("listing: %d %s", res.status, res.body)
	}
	return out
}

// TestServer_listPlugins_errors checks that the listing's errors describe
// what fails now, each under its own file: a failure is never shown as a
// healthy plugin's last_error, and it is gone once its file is.
func TestServer_listPlugins_errors(t *testing.T) {
	dir := t.TempDir()
	copyFixture(t, "reload/ver_v1.wasm", filepath.Join(dir, "ver.wasm"))
	copyFixture(t, "reload/srv.wasm", filepath.Join(dir, "srv.wasm"))
	s := startHostServerDir(t, dir, nil)
	reload := func(want int) {
		t.Helper()
		if res := do(t, s, "POST", adminPluginsPath+"?http_key="+testHTTPKey, nil, ""); res.status != want {
			t.Fatalf("reload: %d %s, want %d", res.status, res.body, want)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "ver"), 0o755); err != nil {
		t.Fatal(err)
	}
	dupName := filepath.Join(dir, "ver", "ver.wasm") // the same plugin name as ver.wasm
	copyFixture(t, "reload/ver_v2.wasm", dupName)
	conflict := filepath.Join(dir, "a.wasm") // registers SRV, which srv serves
	copyFixture(t, "reload/srv_open.wasm", conflict)
	reload(422)
	out := getListing(t, s)
	if len(out.Plugins) != 2 || len(out.Errors) != 2 {
		t.Fatalf("listing %+v, want 2 plugins and 2 errors", out)
	}
	for _, p := range out.Plugins {
		if p.LastError != nil {
			t.Fatalf("healthy plugin %s shows %+v as its last error", p.Name, p.LastError)
		}
	}
	if e := out.Errors[0]; e.Path != conflict || e.Plugin != "a" || len(e.RPCs) != 1 || e.RPCs[0] != "srv" {
		t.Fatalf("errors[0] = %+v, want a.wasm with its rpc srv", e)
	}
	if e := out.Errors[1]; e.Path != dupName || e.Plugin != "ver" || !strings.Contains(e.Error, "same name") {
		t.Fatalf("errors[1] = %+v, want ver/ver.wasm", e)
	}
	// A changed version of ver that fails is ver's last_error.
	copyFixture(t, "bad/init_traps.wasm", filepath.Join(dir, "ver.wasm"))
	for _, f := range []string{dupName, conflict} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	reload(422)
	out = getListing(t, s)
	if len(out.Errors) != 1 || out.Errors[0].Path != filepath.Join(dir, "ver.wasm") {
		t.Fatalf("errors %+v, want only ver.wasm's new version", out.Errors)
	}
	for _, p := range out.Plugins {
		if (p.LastError != nil) != (p.Name == "ver") {
			t.Fatalf("plugin %s last_error %+v", p.Name, p.LastError)
		}
	}
	copyFixture(t, "reload/ver_v2.wasm", filepath.Join(dir, "ver.wasm"))
	reload(200)
	if out := getListing(t, s); len(out.Errors) != 0 || out.Plugins[0].LastError != nil || out.Plugins[1].LastError != nil {
		t.Fatalf("listing %+v after every file loads, want no errors", out)
	}
}

// TestServer_rpc_failingPlugin calls an RPC that only a plugin refused at
// start registers: 404 as for any unknown id, and a warning in the log
// that names the plugin.
func TestServer_rpc_failingPlugin(t *testing.T) {
	dir := t.TempDir()
	copyFixture(t, "reload/srv_open.wasm", filepath.Join(dir, "open.wasm"))
	copyFixture(t, "reload/srv.wasm", filepath.Join(dir, "z_guarded.wasm")) // srv conflicts with open: refused
	logs := &syncBuffer{}
	s := startHostServerDir(t, dir, logs)
	res := do(t, s, "POST", "/v2/rpc/srv_other?http_key="+testHTTPKey, nil, `""`)
	if res.status != 404 {
		t.Fatalf("srv_other: %d %s, want 404", res.status, res.body)
	}
	var warned bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"level":"warn"`) && strings.Contains(line, "request failed") &&
			strings.Contains(line, "failed to load") && strings.Contains(line, "z_guarded") {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("no warning names the failing plugin z_guarded in:\n%s", logs)
	}
}
