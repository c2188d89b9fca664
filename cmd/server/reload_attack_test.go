package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServer_reloadCannotEvict drops a file that sorts before the serving
// srv and registers "SRV" without srv's server-only flag: the reload
// refuses and names the newcomer, srv's other RPC still answers, and a
// session user's call of srv is still refused.
func TestServer_reloadCannotEvict(t *testing.T) {
	dir := fixtureDir(t, "../../host/testdata/reload/srv.wasm")
	s := startServer(t, append(dataArgs(t, dir), "-watch", "0")...)
	user := map[string]string{"Authorization": "Bearer " + token(t, aliceID, "alice", time.Now().Add(time.Hour))}
	check := func() {
		t.Helper()
		if res := do(t, "POST", s.URL+"/v2/rpc/srv", `""`, user); res.Status != 403 {
			t.Fatalf("user call of srv: %d %s, want 403", res.Status, res.Body)
		}
		if res := do(t, "POST", s.URL+"/v2/rpc/srv_other?unwrap&http_key="+testHTTPKey, "", nil); res.Status != 200 || res.Body != "srv" {
			t.Fatalf("srv_other: %d %s, want srv's answer", res.Status, res.Body)
		}
	}
	check()
	open, err := os.ReadFile("../../host/testdata/reload/srv_open.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a_open.wasm"), open, 0o644); err != nil {
		t.Fatal(err)
	}
	res := do(t, "POST", s.URL+"/_warden/plugins?http_key="+testHTTPKey, "", nil)
	var out struct {
		Loaded []string
		Failed []struct{ Plugin, Error string }
	}
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil || res.Status != 422 || len(out.Loaded) != 0 ||
		len(out.Failed) != 1 || out.Failed[0].Plugin != "a_open" {
		t.Fatalf("reload: %d %s, want 422 naming a_open", res.Status, res.Body)
	}
	check()
}

// TestServer_hostilePluginFiles puts a FIFO, a symlink to /dev/zero and a
// 1 GiB sparse file in the plugin folder of a serving server with the
// watcher on: a POST reload answers within seconds, naming all three, the
// plugin beside them keeps serving, and the server shuts down gracefully.
func TestServer_hostilePluginFiles(t *testing.T) {
	dir := fixtureDir(t, "../../host/testdata/reload/ver_v1.wasm")
	if err := os.Rename(filepath.Join(dir, "ver_v1.wasm"), filepath.Join(dir, "ver.wasm")); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, append(dataArgs(t, dir), "-watch", "20ms")...)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.wasm")); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "huge.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	time.Sleep(100 * time.Millisecond) // let the watcher meet them too
	done := make(chan response, 1)
	go func() { done <- do(t, "POST", s.URL+"/_warden/plugins?http_key="+testHTTPKey, "", nil) }()
	select {
	case res := <-done:
		for _, want := range []string{"fifo.wasm", "named pipe", "zero.wasm", "is a device", "huge.wasm", "more than the plugin size limit"} {
			if res.Status != 422 || !strings.Contains(res.Body, want) {
				t.Fatalf("reload: %d %s, want 422 mentioning %q", res.Status, res.Body, want)
			}
		}
	case <-time.After(20 * time.Second):
		t.Fatal("POST /_warden/plugins did not answer within 20s")
	}
	if res := do(t, "GET", s.URL+"/ver", "", nil); res.Status != 200 || res.Body != "v1" {
		t.Fatalf("GET /ver: %d %q", res.Status, res.Body)
	}
	stopped := make(chan struct{})
	go func() { s.stop(t); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not shut down within 30s")
	}
}

// TestServer_maxPluginBytes starts with a plugin over -max-plugin-bytes:
// it is refused and listed, and the server serves.
func TestServer_maxPluginBytes(t *testing.T) {
	dir := fixtureDir(t, "../../host/testdata/reload/ver_v1.wasm")
	s := startServer(t, append(dataArgs(t, dir), "-max-plugin-bytes", "100")...)
	out := listPlugins(t, s)
	if len(out.Plugins) != 0 || len(out.Errors) != 1 || !strings.Contains(out.Errors[0].Error, "more than the plugin size limit of 100 bytes") {
		t.Fatalf("listing %+v, want ver_v1 refused for its size", out)
	}
}

// TestServer_plantedFileAtRestart plants a file under a serving plugin's
// name at its other place (ver/ver.wasm beside ver.wasm): the hot reload
// refuses it, and so does the next start, where the plugin serves on,
// since data/serving.json recorded which file served. Before, the start
// refused both claimants, and the planted file took the plugin down at
// every restart. A file of the name in a subfolder not named after it
// (attacker/ver.wasm) is refused by the layout rule, at both.
func TestServer_plantedFileAtRestart(t *testing.T) {
	dir := fixtureDir(t, "../../host/testdata/reload/ver_v1.wasm")
	if err := os.Rename(filepath.Join(dir, "ver_v1.wasm"), filepath.Join(dir, "ver.wasm")); err != nil {
		t.Fatal(err)
	}
	args := append(dataArgs(t, dir), "-watch", "0")
	s := startServer(t, args...)
	v2, err := os.ReadFile("../../host/testdata/reload/ver_v2.wasm")
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]string{ // planted file → what its error says
		filepath.Join(dir, "ver", "ver.wasm"):      "served before",
		filepath.Join(dir, "attacker", "ver.wasm"): "must be named after its folder",
	}
	for path := range why {
		if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, v2, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if res := do(t, "POST", s.URL+"/_warden/plugins?http_key="+testHTTPKey, "", nil); res.Status != 422 {
		t.Fatalf("reload: %d %s, want 422", res.Status, res.Body)
	}
	s.stop(t)
	s = startServer(t, args...)
	if res := do(t, "GET", s.URL+"/ver", "", nil); res.Status != 200 || res.Body != "v1" {
		t.Fatalf("GET /ver after the restart: %d %q, want v1", res.Status, res.Body)
	}
	out := listPlugins(t, s)
	if len(out.Errors) != len(why) {
		t.Fatalf("listing %+v, want the planted files alone refused", out)
	}
	for _, e := range out.Errors {
		if want, ok := why[e.Path]; !ok || !strings.Contains(e.Error, want) {
			t.Fatalf("listing error %+v, want one of the planted files, saying %q", e, want)
		}
	}
	if _, err := os.Stat(filepath.Join(args[1], servingFileName)); err != nil {
		t.Fatalf("the record of the serving files: %v", err)
	}
}
