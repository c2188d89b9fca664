package host

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// cacheCodeFiles returns the code files in the compile cache dir: every
// regular file but the index, with its modification time.
func cacheCodeFiles(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	files := map[string]time.Time{}
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() || info.Name() == cacheIndexName {
			return err
		}
		files[path] = info.ModTime()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestHost_compileCachePruned checks that the compile cache keeps the code
// of the loaded versions only: a deploy that replaces a version, a refused
// upload and a removed plugin leave none of their code behind, and a
// restart finds the loaded versions' code (no file written again) and
// keeps it. Without pruning, every refused upload and superseded version
// stayed on disk for good: a client with the deploy key grew the data
// directory by an upload's compiled code per request.
func TestHost_compileCachePruned(t *testing.T) {
	ctx := context.Background()
	cache := t.TempDir()
	dir := pluginDir(t, "reload/srv.wasm")
	pruned := func(c *Config) { c.CacheDir, c.PruneCache = cache, true }
	h := newTestHost(t, dir, pruned)
	want := func(n int, when string) map[string]time.Time {
		t.Helper()
		files := cacheCodeFiles(t, cache)
		if len(files) != n {
			t.Fatalf("%s: %d code files in the cache, want %d: %v", when, len(files), n, files)
		}
		return files
	}
	want(1, "srv loaded")
	if _, err := h.Deploy(ctx, "ver", fixture(t, "reload/ver_v1.wasm")); err != nil {
		t.Fatal(err)
	}
	want(2, "ver v1 deployed")
	if _, err := h.Deploy(ctx, "ver", fixture(t, "reload/ver_v2.wasm")); err != nil {
		t.Fatal(err)
	}
	want(2, "ver v1 replaced by v2")
	for _, f := range []string{"bad/init_traps.wasm", "bad/no_handle.wasm"} {
		if _, err := h.Deploy(ctx, "refused", fixture(t, f)); err == nil {
			t.Fatalf("%s deployed", f)
		}
	}
	kept := want(2, "two uploads refused")
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}

	h = newTestHost(t, dir, pruned)
	if out, err := h.Call(ctx, &Request{ID: "ver"}); err != nil || string(out.Output) != "v2" {
		t.Fatalf("after a restart, ver = %q, %v; want v2", out.Output, err)
	}
	for f, mt := range want(2, "restarted") {
		if !kept[f].Equal(mt) {
			t.Fatalf("after a restart, %s was written again: the loaded versions' code was not kept", f)
		}
	}
	if err := os.Remove(filepath.Join(dir, "ver.wasm")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	// A reload that compiled nothing prunes nothing: the removed plugin's
	// code goes at the next reload that compiles.
	if _, err := h.Deploy(ctx, "ver", fixture(t, "reload/ver_v1.wasm")); err != nil {
		t.Fatal(err)
	}
	want(2, "ver removed, then v1 deployed again")
}

// TestHost_compileCacheHostileIndex attacks the index as whoever could
// write the cache folder would: paths outside the folder, a link to a
// device, an index past its bound. Pruning deletes only files it lists
// under the folder, never a path the index names, and an index it cannot
// read as a bounded regular file counts as empty: the start neither hangs
// nor reaches outside.
func TestHost_compileCacheHostileIndex(t *testing.T) {
	for _, tt := range []struct {
		name  string
		index func(t *testing.T, cache, victim string)
	}{
		{"PathsOutside", func(t *testing.T, cache, victim string) {
			rel, err := filepath.Rel(cache, victim)
			if err != nil {
				t.Fatal(err)
			}
			b := []byte(`{"k":["` + rel + `","` + victim + `"]}`)
			if err := os.WriteFile(filepath.Join(cache, cacheIndexName), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"LinkToDevice", func(t *testing.T, cache, _ string) {
			if err := os.Symlink("/dev/zero", filepath.Join(cache, cacheIndexName)); err != nil {
				t.Fatal(err)
			}
		}},
		{"TooLarge", func(t *testing.T, cache, _ string) {
			if err := os.WriteFile(filepath.Join(cache, cacheIndexName), make([]byte, maxCacheIndexBytes+1), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			cache, outside := t.TempDir(), t.TempDir()
			victim := filepath.Join(outside, "victim")
			if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
				t.Fatal(err)
			}
			tt.index(t, cache, victim)
			h := newTestHost(t, pluginDir(t, "reload/srv.wasm"), func(c *Config) { c.CacheDir, c.PruneCache = cache, true })
			if _, err := h.Deploy(ctx, "ver", fixture(t, "reload/ver_v1.wasm")); err != nil { // a compile, then a prune
				t.Fatal(err)
			}
			if b, err := os.ReadFile(victim); err != nil || string(b) != "keep" {
				t.Fatalf("a file outside the cache after a prune: %q, %v", b, err)
			}
			if n := len(cacheCodeFiles(t, cache)); n != 2 {
				t.Fatalf("%d code files in the cache, want 2 (srv and ver)", n)
			}
		})
	}
}
