package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage"
)

// reloadWithin runs a reload and fails the test when it does not return
// within a generous bound.
func reloadWithin(t *testing.T, h *Host, bound time.Duration) *ReloadResult {
	t.Helper()
	type answer struct {
		res *ReloadResult
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := h.Reload(context.Background())
		done <- answer{res, err}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			t.Fatal(a.err)
		}
		return a.res
	case <-time.After(bound):
		t.Fatalf("reload did not return within %s", bound)
		return nil
	}
}

// TestHost_Reload_hostileFiles drops files that are not plugins under
// *.wasm names: each is refused, named, within seconds, without reading it
// whole, and the plugin beside it keeps serving.
func TestHost_Reload_hostileFiles(t *testing.T) {
	tests := []struct {
		name, file, want string
		make             func(path string) error
	}{
		{"ErrFIFO", "fifo", "is a named pipe (FIFO)", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"ErrSymlinkToDevZero", "zero", "is a device", func(p string) error { return os.Symlink("/dev/zero", p) }},
		// A folder itself is a subfolder, whatever its name (plugin dir.wasm's,
		// TestHost_dotWasmFolderIsNoPluginFile); a link to one is a file.
		{"ErrSymlinkToDirectory", "dir", "is a directory", func(p string) error { return os.Symlink("/", p) }},
		{"ErrHugeSparseFile", "huge", "is 1073741824 bytes, more than the plugin size limit of 67108864 bytes", func(p string) error {
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Truncate(1 << 30)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			deploy(t, dir, "ver", fixture(t, "reload/ver_v1.wasm"))
			h := newTestHost(t, dir, nil)
			path := filepath.Join(dir, tt.file+".wasm")
			if err := tt.make(path); err != nil {
				t.Fatal(err)
			}
			res := reloadWithin(t, h, 10*time.Second)
			if len(res.Failed) != 1 || res.Failed[0].Path != path || !strings.Contains(res.Failed[0].Err.Error(), tt.want) {
				t.Fatalf("reload: %+v, want %s refused: %q", res, path, tt.want)
			}
			if out, err := h.Call(context.Background(), &Request{ID: "ver"}); err != nil || string(out.Output) != "v1" {
				t.Fatalf("ver: %q %v", out.Output, err)
			}
		})
	}
}

// TestHost_New_hostileFiles starts a host over a FIFO and a symlink to
// /dev/zero: New returns, and lists both.
func TestHost_New_hostileFiles(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.wasm")); err != nil {
		t.Fatal(err)
	}
	done := make(chan *Host, 1)
	go func() { done <- newTestHost(t, dir, nil) }()
	select {
	case h := <-done:
		if errs := h.LoadErrors(); len(errs) != 2 {
			t.Fatalf("LoadErrors() = %+v, want the FIFO and the symlink", errs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("New did not return within 10s")
	}
}

// TestReadPluginFile checks the size limit at its edge and that a symlink
// to a regular file is read.
func TestReadPluginFile(t *testing.T) {
	dir := t.TempDir()
	wasm := fixture(t, "reload/ver_v1.wasm")
	path := filepath.Join(dir, "ver.wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.wasm")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	n := int64(len(wasm))
	t.Run("OK", func(t *testing.T) {
		for _, p := range []string{path, link} {
			if b, err := readPluginFile(p, n); err != nil || int64(len(b)) != n {
				t.Fatalf("readPluginFile(%s, %d) = %d bytes, %v", p, n, len(b), err)
			}
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		if _, err := readPluginFile(link, n-1); err == nil || !strings.Contains(err.Error(), "more than the plugin size limit") {
			t.Fatalf("readPluginFile() error = %v", err)
		}
	})
}

// TestHost_subfolderNamedAfterIt: a plugin file in a subfolder of the
// plugin folder loads only when it is named after the folder
// (ver/ver.wasm); any other (x/srv.wasm) is refused with the rule, never
// loaded, at a start and at a hot reload, while the plugins beside it
// serve.
func TestHost_subfolderNamedAfterIt(t *testing.T) {
	dir := placePlugins(t, map[string]string{"ver/ver.wasm": "reload/ver_v1.wasm", "x/srv.wasm": "reload/srv.wasm"})
	h := newTestHost(t, dir, nil)
	check := func(t *testing.T, wantFailed []string) {
		t.Helper()
		if got := serving(h); !slices.Equal(got, []string{"ver"}) {
			t.Fatalf("serving %v, want ver only", got)
		}
		if got := failedPaths(h); !slices.Equal(got, wantFailed) {
			t.Fatalf("failed %v, want %v", got, wantFailed)
		}
		for _, le := range h.LoadErrors() {
			if !strings.Contains(le.Err.Error(), "must be named after its folder") {
				t.Errorf("%s: %v, want the layout rule", le.Path, le.Err)
			}
		}
	}
	check(t, []string{"x/srv.wasm"})
	plantFile(t, filepath.Join(dir, "y", "ver_v2.wasm"), fixture(t, "reload/ver_v2.wasm"))
	if _, err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, []string{"x/srv.wasm", "y/ver_v2.wasm"})
}

// TestHost_removedNameNotClaimed: once plugin kv is removed, its database
// kept, a file planted as attacker/kv.wasm does not become plugin kv: it
// is refused by the layout rule at a hot reload and at a restart, and
// kv's data stays out of its reach, for the operator's next deploy of kv.
// Before, a name that nothing served nor held could be claimed by a file
// in any subfolder, which then got the name's database.
func TestHost_removedNameNotClaimed(t *testing.T) {
	ctx := context.Background()
	kv, err := os.ReadFile("../plugins/kv/kv.wasm")
	if err != nil {
		t.Fatal(err)
	}
	dbs, err := storage.OpenDir(filepath.Join(t.TempDir(), "db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dbs.Close() })
	dir := placePlugins(t, map[string]string{"srv.wasm": "reload/srv.wasm"})
	plantFile(t, filepath.Join(dir, "kv", "kv.wasm"), kv)
	record := filepath.Join(t.TempDir(), "serving.json")
	edit := func(c *Config) { c.Databases, c.ServingFile = dbs, record }
	h := newTestHost(t, dir, edit)
	if _, err := kvCall(t, h, "kv_put", `{"key":"k","value":"secret"}`); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Remove(ctx, "kv"); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(dir, "attacker", "kv.wasm")
	plantFile(t, planted, kv)
	check := func(t *testing.T, h *Host) {
		t.Helper()
		if out, err := kvCall(t, h, "kv_get", `{"key":"k"}`); err == nil {
			t.Fatalf("kv_get = %s: the planted %s serves as kv, with kv's database", out, planted)
		}
		errs := h.LoadErrors()
		if len(errs) != 1 || errs[0].Path != planted || !strings.Contains(errs[0].Err.Error(), "must be named after its folder") {
			t.Fatalf("load errors %v, want %s refused by the layout rule", errs, planted)
		}
	}
	if _, err := h.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	check(t, h)
	// The planted file is no plugin's: a removal of kv does not see it.
	if _, err := h.Remove(ctx, "kv"); !errors.Is(err, ErrNoPlugin) {
		t.Fatalf("Remove(kv) = %v, want ErrNoPlugin", err)
	}
	if _, err := os.Stat(planted); err != nil {
		t.Fatalf("the planted file: %v, want it left where it is", err)
	}
	h2 := newTestHost(t, dir, edit)
	check(t, h2)
	if _, err := h2.Deploy(ctx, "kv", kv); err != nil {
		t.Fatal(err)
	}
	if out, err := kvCall(t, h2, "kv_get", `{"key":"k"}`); err != nil || out != `{"key":"k","value":"secret"}` {
		t.Fatalf("kv_get after the operator's deploy = %s, %v; want kv's kept data", out, err)
	}
}

// TestPluginNames: the names are those of the files at a plugin's places,
// NAME.wasm and NAME/NAME.wasm, each once; a file in a subfolder of
// another name, or deeper, names none. MisplacedPluginNames lists the
// former (x/srv.wasm), never the deeper ones.
func TestPluginNames(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"ver.wasm", "ver/ver.wasm", "kv/kv.wasm", "x/srv.wasm", "deep/deep/deep.wasm"} {
		plantFile(t, filepath.Join(dir, p), fixture(t, "reload/ver_v1.wasm"))
	}
	names, err := PluginNames(dir)
	if err != nil || !slices.Equal(names, []string{"kv", "ver"}) {
		t.Fatalf("PluginNames = %v, %v; want [kv ver]", names, err)
	}
	if names, err := MisplacedPluginNames(dir); err != nil || !slices.Equal(names, []string{"srv"}) {
		t.Fatalf("MisplacedPluginNames = %v, %v; want [srv]", names, err)
	}
}
