package host

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/warden-rpc/warden/manifest"
)

// placePlugins writes fixtures (testdata paths) into a new plugin folder,
// each under the path given for it.
func placePlugins(t *testing.T, at map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for path, fixtureName := range at {
		plantFile(t, filepath.Join(dir, path), fixture(t, fixtureName))
	}
	return dir
}

// serving returns the names of the plugins h serves, sorted.
func serving(h *Host) []string {
	var names []string
	for _, p := range h.Plugins() {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}

// failedPaths returns the short paths (shortPath) of the files h lists as
// failed, sorted.
func failedPaths(h *Host) []string {
	var paths []string
	for _, le := range h.LoadErrors() {
		paths = append(paths, shortPath(le.Path))
	}
	slices.Sort(paths)
	return paths
}

// shortPath is path's folder's base name and its own: ver/ver.wasm, or
// 001/ver.wasm for a file in a test's plugin folder itself.
func shortPath(path string) string {
	return filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
}

// TestHost_contestedAtStart: when two new files claim the same plugin
// name, RPC id or route and none of them is serving, every claimant is
// refused. Before, the first in path order won at a start: a file planted
// as plugins/attacker/kv.wasm (now refused by the layout rule, see
// checkPlace), refused by a hot reload while the real kv served, became
// plugin kv at the next restart, with kv's database, and the real kv was
// the one refused; a plugin registering kv's RPC ids would have answered
// kv's callers. The two places of one name, ver.wasm and ver/ver.wasm,
// contest each other; a file of the name in another subfolder contests
// nothing: it is refused by the layout rule.
func TestHost_contestedAtStart(t *testing.T) {
	const contest, layout = "none of them serving", "must be named after its folder"
	for _, tt := range []struct {
		name  string
		files map[string]string
		serve []string
		fail  map[string]string // failed file (failedPaths) → what its error says
	}{
		{"SameName", map[string]string{"ver.wasm": "reload/ver_v1.wasm", "ver/ver.wasm": "reload/ver_v2.wasm", "srv.wasm": "reload/srv.wasm"},
			[]string{"srv"}, map[string]string{"001/ver.wasm": contest, "ver/ver.wasm": contest}},
		{"SameRPC", map[string]string{"dup_a.wasm": "bad/dup_a.wasm", "dup_b.wasm": "bad/dup_b.wasm", "srv.wasm": "reload/srv.wasm"},
			[]string{"srv"}, map[string]string{"001/dup_a.wasm": contest, "001/dup_b.wasm": contest}},
		{"OtherSubfolderRefused", map[string]string{"ver/ver.wasm": "reload/ver_v1.wasm", "attacker/ver.wasm": "reload/ver_v2.wasm", "srv.wasm": "reload/srv.wasm"},
			[]string{"srv", "ver"}, map[string]string{"attacker/ver.wasm": layout}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, placePlugins(t, tt.files), nil)
			if got := serving(h); !slices.Equal(got, tt.serve) {
				t.Errorf("serving %v, want %v", got, tt.serve)
			}
			if got, want := failedPaths(h), slices.Sorted(maps.Keys(tt.fail)); !slices.Equal(got, want) {
				t.Fatalf("failed %v, want %v", got, want)
			}
			for _, le := range h.LoadErrors() {
				want := tt.fail[shortPath(le.Path)]
				if !strings.Contains(le.Err.Error(), want) {
					t.Errorf("%s: %v, want %q", le.Path, le.Err, want)
				}
			}
		})
	}
}

// TestHost_unreadableFileKeepsServing: when a serving plugin's manifest
// (or .wasm) cannot be read at a reload, its serving version keeps
// serving and the file is listed as failed. Before, the reload counted the
// plugin as removed: a manifest over the size bound, or a FIFO in its
// place, took every RPC of the plugin down.
func TestHost_unreadableFileKeepsServing(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		spoil func(t *testing.T, dir string)
	}{
		{"ManifestTooLarge", func(t *testing.T, dir string) {
			big := "# " + strings.Repeat("x", manifest.MaxBytes) + "\n"
			if err := os.WriteFile(filepath.Join(dir, "ver"+manifest.Ext), []byte(big), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"ManifestFIFO", func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "ver"+manifest.Ext), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"WasmTooLarge", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "ver", "ver.wasm"), make([]byte, DefaultMaxPluginBytes+1), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := placePlugins(t, map[string]string{"ver/ver.wasm": "reload/ver_v1.wasm"})
			h := newTestHost(t, dir, nil)
			tt.spoil(t, dir)
			res, err := h.Reload(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Removed) != 0 || len(res.Failed) != 1 {
				t.Errorf("reload = %+v, want ver failed and not removed", res)
			}
			if out, err := h.Call(ctx, &Request{ID: "ver"}); err != nil || string(out.Output) != "v1" {
				t.Fatalf("ver = %q, %v; want v1 still serving", out.Output, err)
			}
		})
	}
}

// TestHost_badFileNames: a plugin file whose name is not a plugin name
// (storage.CheckPluginName, as the deploy API requires) is refused with
// the rule, never loaded. Before, such files loaded when they used no
// database, and a name that is not UTF-8 crashed the server in the
// metrics' labels; plugins with names the API refuses could not be
// removed through it.
func TestHost_badFileNames(t *testing.T) {
	files := map[string]string{"srv.wasm": "reload/srv.wasm"}
	for _, bad := range []string{"\xff.wasm", ".hidden.wasm", "-x.wasm", "sp ace.wasm", strings.Repeat("n", 64) + ".wasm"} {
		files[bad] = "reload/ver_v1.wasm"
	}
	h := newTestHost(t, placePlugins(t, files), nil)
	if got := serving(h); !slices.Equal(got, []string{"srv"}) {
		t.Errorf("serving %v, want only srv", got)
	}
	if n := len(h.LoadErrors()); n != len(files)-1 {
		t.Fatalf("%d load errors, want %d: %v", n, len(files)-1, h.LoadErrors())
	}
	for _, le := range h.LoadErrors() {
		if !strings.Contains(le.Err.Error(), "plugin name") {
			t.Errorf("%q: %v, want the name rule", le.Path, le.Err)
		}
		if !utf8Valid(le.Plugin) {
			t.Errorf("load error names plugin %q, not UTF-8", le.Plugin)
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }
