package host

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// folderFiles returns every file in dir (hidden ones too) with its bytes.
func folderFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// changed returns the names of the files that differ between two
// folderFiles, sorted.
func changed(before, after map[string]string) []string {
	var names []string
	for name, b := range before {
		if a, ok := after[name]; !ok || a != b {
			names = append(names, name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// TestHost_DeployUpload_writeFails: a deploy of a module with its
// manifest whose writes fail part way, at any of its renames (a full disk,
// a folder gone read-only), answers the error and never leaves the module
// beside a manifest it was not validated with, for the next reload to run.
// When one rename fails, the folder is left as it was, byte for byte.
// When every rename from one on fails, so that putting things back fails
// too, the folder holds the old module under the old manifest, the new
// under the new, or no module; a reload then serves a validated pair or
// nothing.
func TestHost_DeployUpload_writeFails(t *testing.T) {
	ctx := context.Background()
	v1, v2 := fixture(t, "reload/ver_v1.wasm"), fixture(t, "reload/ver_v2.wasm")
	oldMf := []byte("[http]\nallow = [\"https://old.example.com\"]\n")
	newMf := []byte("[http]\nallow = [\"https://new.example.com\"]\n")
	for _, tc := range []struct {
		name         string
		oldMf, newMf []byte // nil: none
		upload       Upload
	}{
		{"ManifestReplaced", oldMf, newMf, Upload{Wasm: v2, Manifest: newMf}},
		{"ManifestAdded", nil, newMf, Upload{Wasm: v2, Manifest: newMf}},
		{"ManifestRemoved", oldMf, nil, Upload{Wasm: v2, RemoveManifest: true}},
	} {
		// pairs are the validated pairs: the module (by version) and its
		// manifest and grants.
		pairs := map[string]struct {
			mf     []byte
			grants []string
		}{version(v1): {tc.oldMf, grantsOf(tc.oldMf)}, version(v2): {tc.newMf, grantsOf(tc.newMf)}}
		for _, mode := range []string{"OneFails", "AllFailFromThenOn"} {
			for k := 1; k < 20; k++ {
				done := false
				t.Run(fmt.Sprintf("%s/%s/rename%d", tc.name, mode, k), func(t *testing.T) {
					dir := t.TempDir()
					deploy(t, dir, "ver", v1)
					if tc.oldMf != nil {
						writeManifest(t, dir, "ver", string(tc.oldMf))
					}
					before := folderFiles(t, dir)
					h := newTestHost(t, dir, nil)
					n := 0
					h.rename = func(from, to string) error {
						if n++; n == k || (mode == "AllFailFromThenOn" && n > k) {
							return &os.LinkError{Op: "rename", Old: from, New: to, Err: syscall.ENOSPC}
						}
						return os.Rename(from, to)
					}
					_, err := h.DeployUpload(ctx, "ver", tc.upload)
					if n < k { // a deploy makes fewer renames: this one made them all
						if err != nil {
							t.Fatalf("DeployUpload with no rename failing: %v", err)
						}
						done = true
						return
					}
					if !errors.Is(err, syscall.ENOSPC) {
						t.Fatalf("DeployUpload with rename %d failing = %v, want its error", k, err)
					}
					t.Logf("DeployUpload: %v", err)
					h.rename = os.Rename
					after := folderFiles(t, dir)
					if mode == "OneFails" && !maps.Equal(before, after) {
						t.Errorf("the folder changed: %q", changed(before, after))
					}
					if wasm, ok := after["ver.wasm"]; ok {
						mf, hasMf := after["ver.toml"]
						want, known := pairs[version([]byte(wasm))]
						if !known || hasMf != (want.mf != nil) || mf != string(want.mf) {
							t.Errorf("ver.wasm (%s) is beside a manifest it was not validated with: %q", version([]byte(wasm)), mf)
						}
					}
					if _, err := h.Reload(ctx); err != nil {
						t.Fatal(err)
					}
					for _, p := range h.Plugins() {
						if want := pairs[p.Version]; !slices.Equal(p.Grants(), want.grants) {
							t.Errorf("after the failed deploy a reload serves %s with grants %q, want %q", p.Version, p.Grants(), want.grants)
						}
					}
				})
				if done {
					break
				}
			}
		}
	}
}

// grantsOf returns the one origin a test manifest grants; none for nil.
func grantsOf(mf []byte) []string {
	if mf == nil {
		return nil
	}
	_, rest, _ := strings.Cut(string(mf), "\"")
	origin, _, _ := strings.Cut(rest, "\"")
	return []string{origin}
}
