package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestHost_DeployUpload_links: a deploy never writes through a symbolic
// link in the plugin folder, whose subfolders a plugin's author may be
// able to write. A link planted under a temporary name a deploy might use
// (.ver.wasm.tmp and .ver.toml.tmp, the names it once used) is left alone,
// and so is the file it points at. A plugin file or manifest that is
// itself a link is replaced by a regular file, and the file it pointed at
// is untouched.
func TestHost_DeployUpload_links(t *testing.T) {
	ctx := context.Background()
	v1, v2 := fixture(t, "reload/ver_v1.wasm"), fixture(t, "reload/ver_v2.wasm")
	mf := []byte("[env]\nallow = []\n")
	precious := []byte("SQLite format 3\x00 the accounts")
	// victim writes a file outside the plugin folder and links name, in
	// dir, to it; it returns the victim's path.
	victim := func(t *testing.T, dir, name string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "warden.db")
		if err := os.WriteFile(p, precious, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	untouched := func(t *testing.T, victims ...string) {
		t.Helper()
		for _, p := range victims {
			if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, precious) {
				t.Errorf("the deploy wrote through a link into %s: now %q, %v", p, b[:min(8, len(b))], err)
			}
		}
	}
	// regular checks that name in dir is a regular file holding want.
	regular := func(t *testing.T, dir, name string, want []byte) {
		t.Helper()
		p := filepath.Join(dir, name)
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("%s after the deploy: %v, %v; want a regular file", name, fi.Mode(), err)
		}
		if b, _ := os.ReadFile(p); !bytes.Equal(b, want) {
			t.Fatalf("%s holds %q, want %q", name, b[:min(8, len(b))], want[:min(8, len(want))])
		}
	}
	serves := func(t *testing.T, h *Host, want string) {
		t.Helper()
		if out, err := h.Call(ctx, &Request{ID: "ver"}); err != nil || string(out.Output) != want {
			t.Fatalf("ver = %q, %v; want %s", out.Output, err, want)
		}
	}

	t.Run("OKPlantedTemporaryName", func(t *testing.T) {
		dir := t.TempDir()
		deploy(t, dir, "ver", v1)
		victims := []string{victim(t, dir, ".ver.wasm.tmp"), victim(t, dir, ".ver.toml.tmp")}
		h := newTestHost(t, dir, nil)
		if _, err := h.DeployUpload(ctx, "ver", Upload{Wasm: v2, Manifest: mf}); err != nil {
			t.Fatal(err)
		}
		untouched(t, victims...)
		regular(t, dir, "ver.wasm", v2)
		regular(t, dir, "ver.toml", mf)
		serves(t, h, "v2")
	})
	t.Run("OKPlantedBeforeManifestAlone", func(t *testing.T) {
		dir := t.TempDir()
		v := victim(t, dir, ".new.toml.tmp")
		h := newTestHost(t, dir, nil)
		if _, err := h.DeployUpload(ctx, "new", Upload{Manifest: mf}); err != nil {
			t.Fatal(err)
		}
		untouched(t, v)
		regular(t, dir, "new.toml", mf)
	})
	t.Run("OKTargetIsLink", func(t *testing.T) {
		dir := t.TempDir()
		// The operator keeps the module and its manifest elsewhere and
		// links them into the folder.
		elsewhere := t.TempDir()
		for name, b := range map[string][]byte{"ver.wasm": v1, "ver.toml": mf} {
			if err := os.WriteFile(filepath.Join(elsewhere, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(elsewhere, name), filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
		h := newTestHost(t, dir, nil)
		mf2 := []byte("# v2\n[env]\nallow = []\n")
		if _, err := h.DeployUpload(ctx, "ver", Upload{Wasm: v2, Manifest: mf2}); err != nil {
			t.Fatal(err)
		}
		regular(t, dir, "ver.wasm", v2)
		regular(t, dir, "ver.toml", mf2)
		regular(t, elsewhere, "ver.wasm", v1)
		regular(t, elsewhere, "ver.toml", mf)
		serves(t, h, "v2")
	})
}
