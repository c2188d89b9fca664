package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// readFixture returns the bytes of a file of the repository.
func readFixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wasmVersion is the version the host gives wasm: 12 hex digits of its
// SHA-256.
func wasmVersion(wasm []byte) string {
	sum := sha256.Sum256(wasm)
	return hex.EncodeToString(sum[:])[:12]
}

// folder returns every file under dir with its bytes, to compare a plugin
// folder before and after a refused deploy byte for byte.
func folder(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameFolder(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// putPlugin sends wasm to PUT /_warden/plugins/{name} with the HTTP key.
func putPlugin(t *testing.T, s *server, name string, wasm []byte) response {
	t.Helper()
	return do(t, "PUT", s.URL+"/_warden/plugins/"+name+"?http_key="+testHTTPKey, string(wasm), nil)
}

// deployServer starts a server over a plugin folder holding the bundled
// echo in its subfolder (plugins/echo/echo.wasm), with the watcher on and
// a plugin size limit of maxBytes; it returns the server, the folder and
// the data directory.
func deployServer(t *testing.T, maxBytes int) (*server, string, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "echo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "echo", "echo.wasm"), readFixture(t, "plugins/echo/echo.wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := newDataDir(t)
	s := startServer(t, "-data", data, "-plugins", dir, "-http-key", testHTTPKey, "-encryption-key", testEncKey,
		"-watch", "20ms", "-access-log=false", "-max-plugin-bytes", fmt.Sprint(maxBytes))
	return s, dir, data
}

// TestServer_deployPlugin deploys and removes plugins over HTTP against a
// real server: a new plugin serves; a new version replaces the file the
// plugin lives in and serves; a broken or conflicting upload is refused
// with 422 and writes nothing; bad names, missing keys, sessions and
// oversized bodies are refused; DELETE stops the plugin and keeps its
// database.
func TestServer_deployPlugin(t *testing.T) {
	rustEcho := readFixture(t, "plugins/echo/echo.wasm")
	cEcho := readFixture(t, "examples/c/echo/echo.wasm")
	kv := readFixture(t, "plugins/kv/kv.wasm")
	maxBytes := len(kv) + 1024
	s, dir, data := deployServer(t, maxBytes)
	rpc := func(id, body string) response {
		t.Helper()
		return do(t, "POST", s.URL+"/v2/rpc/"+id+"?unwrap&http_key="+testHTTPKey, body, nil)
	}

	// A new plugin: written as <dir>/kv.wasm, and its RPCs answer.
	if res := putPlugin(t, s, "kv", kv); res.Status != 200 || !strings.Contains(res.Body, `"loaded":["kv"]`) {
		t.Fatalf("deploy kv: %d %s", res.Status, res.Body)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "kv.wasm")); err != nil || !bytes.Equal(b, kv) {
		t.Fatalf("kv.wasm in the folder: %v, equal %v", err, bytes.Equal(b, kv))
	}
	if res := rpc("kv_put", `{"key":"k","value":"v"}`); res.Status != 200 {
		t.Fatalf("kv_put after deploy: %d %s", res.Status, res.Body)
	}

	// A new version of echo replaces plugins/echo/echo.wasm, where echo
	// lives, and serves.
	if res := rpc("echo", "hi"); res.Header.Get("Warden-Plugin") != "echo@"+wasmVersion(rustEcho) {
		t.Fatalf("echo before: %d %q", res.Status, res.Header.Get("Warden-Plugin"))
	}
	if res := putPlugin(t, s, "echo", cEcho); res.Status != 200 || !strings.Contains(res.Body, `"loaded":["echo"]`) {
		t.Fatalf("deploy echo v2: %d %s", res.Status, res.Body)
	}
	if res := rpc("echo", "hi"); res.Status != 200 || res.Body != "hi" || res.Header.Get("Warden-Plugin") != "echo@"+wasmVersion(cEcho) {
		t.Fatalf("echo after: %d %q %q, want echo@%s", res.Status, res.Body, res.Header.Get("Warden-Plugin"), wasmVersion(cEcho))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "echo", "echo.wasm")); err != nil || !bytes.Equal(b, cEcho) {
		t.Fatalf("echo/echo.wasm not replaced: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "echo.wasm")); !os.IsNotExist(err) {
		t.Fatalf("a second echo.wasm at the top: %v", err)
	}

	// A broken version: 422 with the reason, nothing written, the old
	// version serves.
	before := folder(t, dir)
	if res := putPlugin(t, s, "echo", readFixture(t, "host/testdata/bad/init_traps.wasm")); res.Status != 422 ||
		!strings.Contains(res.Body, "warden_init") || !strings.Contains(res.Body, `"plugin":"echo"`) {
		t.Fatalf("deploy broken: %d %s", res.Status, res.Body)
	}
	if !sameFolder(before, folder(t, dir)) {
		t.Fatal("a refused upload changed the plugin folder")
	}
	if res := rpc("echo", "hi"); res.Status != 200 || res.Header.Get("Warden-Plugin") != "echo@"+wasmVersion(cEcho) {
		t.Fatalf("echo after broken deploy: %d %q", res.Status, res.Header.Get("Warden-Plugin"))
	}

	// A conflicting plugin: srv serves rpc srv; open registers SRV too.
	if res := putPlugin(t, s, "srv", readFixture(t, "host/testdata/reload/srv.wasm")); res.Status != 200 {
		t.Fatalf("deploy srv: %d %s", res.Status, res.Body)
	}
	before = folder(t, dir)
	if res := putPlugin(t, s, "open", readFixture(t, "host/testdata/reload/srv_open.wasm")); res.Status != 422 ||
		!strings.Contains(res.Body, `rpc \"srv\" is registered by both plugin srv and plugin open`) {
		t.Fatalf("deploy conflicting: %d %s", res.Status, res.Body)
	}
	if !sameFolder(before, folder(t, dir)) {
		t.Fatal("a conflicting upload changed the plugin folder")
	}

	t.Run("ErrRefused", func(t *testing.T) {
		before := folder(t, dir)
		key := "?http_key=" + testHTTPKey
		sess := map[string]string{"Authorization": "Bearer " + token(t, "2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b", "alice", time.Now().Add(time.Hour))}
		tests := []struct {
			name, method, path string
			header             map[string]string
			want               int
		}{
			{"dotdot", "PUT", "/_warden/plugins/..%2Fx" + key, nil, 400},
			{"dotdotRaw", "PUT", "/_warden/plugins/../x" + key, nil, 400},
			{"hidden", "PUT", "/_warden/plugins/.hidden" + key, nil, 400},
			{"empty", "PUT", "/_warden/plugins/" + key, nil, 400},
			{"slash", "PUT", "/_warden/plugins/a/b" + key, nil, 400},
			{"noKey", "PUT", "/_warden/plugins/kv2", nil, 401},
			{"session", "PUT", "/_warden/plugins/kv2", sess, 403},
			{"deleteNoKey", "DELETE", "/_warden/plugins/kv", nil, 401},
			{"deleteSession", "DELETE", "/_warden/plugins/kv", sess, 403},
			{"deleteBadName", "DELETE", "/_warden/plugins/.hidden" + key, nil, 400},
			{"deleteUnknown", "DELETE", "/_warden/plugins/nope" + key, nil, 404},
		}
		for _, tt := range tests {
			res := do(t, tt.method, s.URL+tt.path, string(kv), tt.header)
			if res.Status != tt.want || !strings.Contains(res.Body, `"code":`) {
				t.Errorf("%s: %s %s: %d %s, want %d", tt.name, tt.method, tt.path, res.Status, res.Body, tt.want)
			}
		}
		if !sameFolder(before, folder(t, dir)) {
			t.Fatal("a refused request changed the plugin folder")
		}
	})

	t.Run("ErrTooLarge", func(t *testing.T) {
		before := folder(t, dir)
		if res := putPlugin(t, s, "big", make([]byte, maxBytes+1)); res.Status != 400 || !strings.Contains(res.Body, "max-plugin-bytes") {
			t.Fatalf("oversized: %d %s", res.Status, res.Body)
		}
		// Announced larger than the limit, and never sent: the answer
		// must come from the headers alone, without reading the body.
		status := rawPut(t, s.URL, "/_warden/plugins/big?http_key="+testHTTPKey, 1<<40)
		if status != 400 {
			t.Fatalf("announced 1 TiB: %d, want 400", status)
		}
		if !sameFolder(before, folder(t, dir)) {
			t.Fatal("an oversized upload changed the plugin folder")
		}
	})

	// DELETE: kv's RPCs stop, its file goes, its database stays.
	dbFile := filepath.Join(data, "db", "kv.db")
	if _, err := os.Stat(dbFile); err != nil {
		t.Fatalf("kv's database before DELETE: %v", err)
	}
	if res := do(t, "DELETE", s.URL+"/_warden/plugins/kv?http_key="+testHTTPKey, "", nil); res.Status != 200 ||
		!strings.Contains(res.Body, `"removed":["kv"]`) {
		t.Fatalf("delete kv: %d %s", res.Status, res.Body)
	}
	if res := rpc("kv_get", `{"key":"k"}`); res.Status != 404 {
		t.Fatalf("kv_get after DELETE: %d %s, want 404", res.Status, res.Body)
	}
	if _, err := os.Stat(filepath.Join(dir, "kv.wasm")); !os.IsNotExist(err) {
		t.Fatalf("kv.wasm after DELETE: %v", err)
	}
	if _, err := os.Stat(dbFile); err != nil {
		t.Fatalf("kv's database after DELETE: %v", err)
	}
	if res := do(t, "DELETE", s.URL+"/_warden/plugins/kv?http_key="+testHTTPKey, "", nil); res.Status != 404 {
		t.Fatalf("second DELETE: %d %s, want 404", res.Status, res.Body)
	}
	// Deployed again, kv finds its data.
	if res := putPlugin(t, s, "kv", kv); res.Status != 200 {
		t.Fatalf("deploy kv again: %d %s", res.Status, res.Body)
	}
	if res := rpc("kv_put", `{"key":"k2","value":"v"}`); res.Status != 200 {
		t.Fatalf("kv_put after redeploy: %d %s", res.Status, res.Body)
	}
	if res := rpc("kv_get", `{"key":"k"}`); res.Status != 200 || !strings.Contains(res.Body, `"value":"v"`) {
		t.Fatalf("kv_get after redeploy: %d %s", res.Status, res.Body)
	}
}

// rawPut sends a PUT whose Content-Length announces n bytes and sends
// none, and returns the answer's status. A server that read the body
// before answering would never answer; the connection's deadline turns
// that into a failure rather than a hang.
func rawPut(t *testing.T, base, path string, n int64) int {
	t.Helper()
	addr := strings.TrimPrefix(base, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(c, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", path, addr, n); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to an announced %d-byte upload: %v", n, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

// TestServer_deployPlugin_underLoad deploys echo's two versions in turn,
// and a broken one, while clients call it: no call may fail, and each
// answer names one of the two versions.
func TestServer_deployPlugin_underLoad(t *testing.T) {
	versions := [][]byte{readFixture(t, "examples/c/echo/echo.wasm"), readFixture(t, "plugins/echo/echo.wasm")}
	broken := readFixture(t, "host/testdata/bad/init_traps.wasm")
	s, _, _ := deployServer(t, 1<<20)
	want := map[string]bool{}
	for _, v := range versions {
		want["echo@"+wasmVersion(v)] = true
	}
	const workers, calls = 4, 60
	var failures atomic.Int64
	var lastFailure atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls {
				res := do(t, "POST", s.URL+"/v2/rpc/echo?unwrap&http_key="+testHTTPKey, "ping", nil)
				if res.Status != 200 || res.Body != "ping" || !want[res.Header.Get("Warden-Plugin")] {
					failures.Add(1)
					lastFailure.Store(fmt.Sprintf("%d %q %q", res.Status, res.Body, res.Header.Get("Warden-Plugin")))
				}
			}
		}()
	}
	var deployErrs []string
	for i := range 6 {
		if res := putPlugin(t, s, "echo", versions[i%2]); res.Status != 200 {
			deployErrs = append(deployErrs, fmt.Sprintf("deploy %d: %d %s", i, res.Status, res.Body))
		}
		if res := putPlugin(t, s, "echo", broken); res.Status != 422 {
			deployErrs = append(deployErrs, fmt.Sprintf("broken %d: %d %s", i, res.Status, res.Body))
		}
	}
	wg.Wait()
	if len(deployErrs) > 0 {
		t.Fatal(strings.Join(deployErrs, "\n"))
	}
	if f := failures.Load(); f != 0 {
		t.Fatalf("%d of %d calls failed during deploys; last: %v", f, workers*calls, lastFailure.Load())
	}
}

// TestServer_deployPlugin_concurrent sends deploys of echo's two versions
// at once, with the watcher polling every 20 ms: each must succeed, and
// afterwards the version that serves must be the one in the folder, and
// no temporary file may be left.
func TestServer_deployPlugin_concurrent(t *testing.T) {
	versions := [][]byte{readFixture(t, "examples/c/echo/echo.wasm"), readFixture(t, "plugins/echo/echo.wasm")}
	s, dir, _ := deployServer(t, 1<<20)
	const deploys = 8
	statuses := make([]string, deploys)
	var wg sync.WaitGroup
	for i := range deploys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := do(t, "PUT", s.URL+"/_warden/plugins/echo?http_key="+testHTTPKey, string(versions[i%2]), nil)
			statuses[i] = fmt.Sprintf("%d %s", res.Status, res.Body)
		}()
	}
	wg.Wait()
	for i, st := range statuses {
		if !strings.HasPrefix(st, "200 ") {
			t.Errorf("deploy %d: %s", i, st)
		}
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, "echo", "echo.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	res := do(t, "POST", s.URL+"/v2/rpc/echo?unwrap&http_key="+testHTTPKey, "x", nil)
	if got, want := res.Header.Get("Warden-Plugin"), "echo@"+wasmVersion(onDisk); res.Status != 200 || got != want {
		t.Fatalf("serving %d %q, the folder holds %s", res.Status, got, want)
	}
	files := folder(t, dir)
	if len(files) != 1 {
		t.Fatalf("plugin folder after concurrent deploys: %d files, want only echo/echo.wasm", len(files))
	}
}
