package host

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/storage"
)

// TestHost_Deploy deploys fixtures through the host: an accepted one is
// written and serves; a refused one writes nothing and leaves the
// registry as it was.
func TestHost_Deploy(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		dir := pluginDir(t, "reload/srv.wasm")
		h := newTestHost(t, dir, nil)
		v1 := fixture(t, "reload/ver_v1.wasm")
		res, err := h.Deploy(ctx, "ver", v1)
		if err != nil || !slices.Equal(res.Loaded, []string{"ver"}) || len(res.Failed) != 0 {
			t.Fatalf("Deploy = %+v, %v", res, err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "ver.wasm")); err != nil || !bytes.Equal(b, v1) {
			t.Fatalf("ver.wasm: %v", err)
		}
		if out, err := h.Call(ctx, &Request{ID: "ver"}); err != nil || string(out.Output) != "v1" {
			t.Fatalf("ver = %q, %v; want v1", out.Output, err)
		}
	})
	t.Run("ErrDeployRefused", func(t *testing.T) {
		dir := pluginDir(t, "reload/srv.wasm")
		h := newTestHost(t, dir, nil)
		before := h.reg.Load()
		for _, f := range []string{"reload/srv_open.wasm", "bad/init_traps.wasm"} {
			res, err := h.Deploy(ctx, "open", fixture(t, f))
			if !errors.Is(err, ErrDeployRefused) || res == nil || len(res.Failed) != 1 || res.Failed[0].Plugin != "open" {
				t.Fatalf("Deploy %s = %+v, %v; want ErrDeployRefused naming open", f, res, err)
			}
		}
		if h.reg.Load() != before {
			t.Fatal("a refused deploy swapped the registry")
		}
		if _, err := os.Stat(filepath.Join(dir, "open.wasm")); !os.IsNotExist(err) {
			t.Fatalf("open.wasm written: %v", err)
		}
		if len(h.LoadErrors()) != 0 {
			t.Fatalf("a refused upload is listed as a file that fails: %+v", h.LoadErrors())
		}
	})
	t.Run("ErrBadName", func(t *testing.T) {
		h := newTestHost(t, t.TempDir(), nil)
		for _, name := range []string{"", "../x", ".hidden", "a/b", "-x"} {
			if _, err := h.Deploy(ctx, name, fixture(t, "reload/srv.wasm")); !errors.Is(err, storage.ErrBadName) {
				t.Errorf("Deploy(%q) = %v, want ErrBadName", name, err)
			}
		}
	})
	t.Run("ErrPluginTooLarge", func(t *testing.T) {
		wasm := fixture(t, "reload/srv.wasm")
		h := newTestHost(t, t.TempDir(), func(c *Config) { c.MaxPluginBytes = int64(len(wasm) - 1) })
		if _, err := h.Deploy(ctx, "srv", wasm); !errors.Is(err, ErrPluginTooLarge) {
			t.Fatalf("Deploy = %v, want ErrPluginTooLarge", err)
		}
	})
}

// TestHost_Remove removes a plugin's file and its manifest: it stops
// serving, and a later plugin of the name starts with no grants.
func TestHost_Remove(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		dir := pluginDir(t, "reload/ver_v1.wasm")
		h := newTestHost(t, dir, nil)
		res, err := h.Remove(ctx, "ver_v1")
		if err != nil || !slices.Equal(res.Removed, []string{"ver_v1"}) || len(h.Plugins()) != 0 {
			t.Fatalf("Remove = %+v, %v; plugins %d", res, err, len(h.Plugins()))
		}
		if _, err := os.Stat(filepath.Join(dir, "ver_v1.wasm")); !os.IsNotExist(err) {
			t.Fatalf("ver_v1.wasm after Remove: %v", err)
		}
	})
	// The manifest goes with its plugin: a later plugin of the same name,
	// deployed without one, must not inherit its grants.
	t.Run("OKManifest", func(t *testing.T) {
		dir := pluginDir(t, "fetch.wasm")
		writeManifest(t, dir, "fetch", "[http]\nallow = [\"https://api.stripe.com\", \"http://10.0.0.0/8:*\"]\n")
		h := newTestHost(t, dir, nil)
		if _, err := h.Remove(ctx, "fetch"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "fetch.toml")); !os.IsNotExist(err) {
			t.Fatalf("fetch.toml after Remove: %v", err)
		}
		if _, err := h.Deploy(ctx, "fetch", fixture(t, "fetch.wasm")); err != nil {
			t.Fatal(err)
		}
		if p := h.Plugins(); len(p) != 1 || len(p[0].Grants()) != 0 {
			t.Fatalf("redeployed without a manifest, fetch has the removed plugin's grants %q", p[0].Grants())
		}
	})
	// A manifest sent for a plugin still to come is removed by name too.
	t.Run("OKManifestAlone", func(t *testing.T) {
		dir := t.TempDir()
		h := newTestHost(t, dir, nil)
		if _, err := h.DeployUpload(ctx, "fetch", Upload{Manifest: []byte("[http]\nallow = [\"https://api.stripe.com\"]\n")}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Remove(ctx, "fetch"); err != nil {
			t.Fatalf("Remove of a manifest alone = %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "fetch.toml")); !os.IsNotExist(err) {
			t.Fatalf("fetch.toml after Remove: %v", err)
		}
	})
	t.Run("ErrNoPlugin", func(t *testing.T) {
		h := newTestHost(t, t.TempDir(), nil)
		if _, err := h.Remove(ctx, "nope"); !errors.Is(err, ErrNoPlugin) {
			t.Fatalf("Remove = %v, want ErrNoPlugin", err)
		}
	})
}

// TestHost_Deploy_plantedDecoy: a deploy of a plugin that does not serve
// writes to a usual place of its name, never into a file of the name that
// someone planted in another folder. Before, Deploy took the first file
// (or load error) of the name anywhere in the folder as where the plugin
// lived: a decoy plugins/attacker/ver.wasm, not even loadable, had the
// operator's first deploy of ver written into the attacker's folder, with
// the attacker's ver.toml beside it, and once the attacker rewrote that
// file the next reload ran the attacker's code as ver, with ver's database
// (found by a hostile review). The decoy is refused at reloads and
// restarts after, by the layout rule (checkPlace): a file of the name in
// another subfolder is no plugin's.
func TestHost_Deploy_plantedDecoy(t *testing.T) {
	ctx := context.Background()
	servingVer := func(t *testing.T, h *Host) *Plugin {
		t.Helper()
		for _, p := range h.Plugins() {
			if p.Name == "ver" {
				return p
			}
		}
		t.Fatalf("ver does not serve; load errors %v", h.LoadErrors())
		return nil
	}
	t.Run("OKUnloadableDecoy", func(t *testing.T) {
		dir := placePlugins(t, map[string]string{"srv.wasm": "reload/srv.wasm"})
		record := servingFileAt(filepath.Join(t.TempDir(), "serving.json"))
		h := newTestHost(t, dir, record)
		decoy := filepath.Join(dir, "attacker", "ver.wasm")
		plantFile(t, decoy, []byte("not a plugin"))
		plantFile(t, filepath.Join(dir, "attacker", "ver.toml"), []byte("[http]\nallow = [\"https://attacker.example\"]\n"))
		if _, err := h.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Deploy(ctx, "ver", fixture(t, "reload/ver_v1.wasm")); err != nil {
			t.Fatal(err)
		}
		p := servingVer(t, h)
		if want := filepath.Join(dir, "ver.wasm"); p.Path != want || len(p.Grants()) != 0 {
			t.Fatalf("ver serves from %s with grants %q, want %s with none", p.Path, p.Grants(), want)
		}
		if b, err := os.ReadFile(decoy); err != nil || string(b) != "not a plugin" {
			t.Fatalf("the decoy was written: %q, %v", b, err)
		}
		// The attacker rewrites its file; the next reload refuses it.
		plantFile(t, decoy, fixture(t, "reload/ver_v2.wasm"))
		if _, err := h.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if q := servingVer(t, h); q.Version != p.Version || q.Path != p.Path {
			t.Fatalf("ver is %s from %s, want the deployed %s from %s", q.Version, q.Path, p.Version, p.Path)
		}
		checkDecoyRefused := func(t *testing.T, h *Host) {
			t.Helper()
			if got := failedPaths(h); !slices.Equal(got, []string{"attacker/ver.wasm"}) {
				t.Fatalf("failed %v, want the decoy", got)
			}
			if err := h.LoadErrors()[0].Err; !strings.Contains(err.Error(), "must be named after its folder") {
				t.Fatalf("the decoy's error %q, want the layout rule", err)
			}
		}
		checkDecoyRefused(t, h)
		// And at the next start, where the deployed file served last.
		h = newTestHost(t, dir, record)
		if q := servingVer(t, h); q.Version != p.Version || q.Path != p.Path {
			t.Fatalf("after a restart ver is %s from %s, want the deployed %s from %s", q.Version, q.Path, p.Version, p.Path)
		}
		checkDecoyRefused(t, h)
	})
	t.Run("OKUsualPlaceFails", func(t *testing.T) {
		dir := t.TempDir()
		own := filepath.Join(dir, "ver", "ver.wasm")
		plantFile(t, own, []byte("not a plugin"))
		h := newTestHost(t, dir, nil)
		if _, err := h.Deploy(ctx, "ver", fixture(t, "reload/ver_v1.wasm")); err != nil {
			t.Fatal(err)
		}
		if p := servingVer(t, h); p.Path != own {
			t.Fatalf("ver serves from %s, want its failing file %s replaced", p.Path, own)
		}
		if _, err := os.Stat(filepath.Join(dir, "ver.wasm")); !os.IsNotExist(err) {
			t.Fatalf("ver.wasm written beside ver/ver.wasm: %v", err)
		}
	})
	// Files at the name's two places that load but do not serve (they
	// contest each other) contest the deploy too: it is refused, naming
	// them, and nothing is written.
	t.Run("ErrDeployRefusedLoadableContestants", func(t *testing.T) {
		dir := placePlugins(t, map[string]string{"ver.wasm": "reload/ver_v2.wasm", "ver/ver.wasm": "reload/ver_v2.wasm"})
		h := newTestHost(t, dir, nil)
		_, err := h.Deploy(ctx, "ver", fixture(t, "reload/ver_v1.wasm"))
		if !errors.Is(err, ErrDeployRefused) || !strings.Contains(err.Error(), "none of them serving") {
			t.Fatalf("Deploy = %v, want ErrDeployRefused naming the contest", err)
		}
		for _, d := range []string{"ver.wasm", "ver/ver.wasm"} {
			if b, err := os.ReadFile(filepath.Join(dir, d)); err != nil || !bytes.Equal(b, fixture(t, "reload/ver_v2.wasm")) {
				t.Fatalf("%s was written: %v", d, err)
			}
		}
	})
	// Loadable decoys in other subfolders contest nothing: the layout rule
	// refuses them, and the deploy writes ver.wasm, leaving them as they
	// are.
	t.Run("OKLoadableDecoys", func(t *testing.T) {
		dir := placePlugins(t, map[string]string{"a/ver.wasm": "reload/ver_v2.wasm", "b/ver.wasm": "reload/ver_v2.wasm"})
		h := newTestHost(t, dir, nil)
		if _, err := h.Deploy(ctx, "ver", fixture(t, "reload/ver_v1.wasm")); err != nil {
			t.Fatal(err)
		}
		if p := servingVer(t, h); p.Path != filepath.Join(dir, "ver.wasm") || p.Version != version(fixture(t, "reload/ver_v1.wasm")) {
			t.Fatalf("ver is %s from %s, want the deployed v1 from ver.wasm", p.Version, p.Path)
		}
		if got := failedPaths(h); !slices.Equal(got, []string{"a/ver.wasm", "b/ver.wasm"}) {
			t.Fatalf("failed %v, want both decoys", got)
		}
		for _, le := range h.LoadErrors() {
			if !strings.Contains(le.Err.Error(), "must be named after its folder") {
				t.Fatalf("%s: %v, want the layout rule", le.Path, le.Err)
			}
			if b, err := os.ReadFile(le.Path); err != nil || !bytes.Equal(b, fixture(t, "reload/ver_v2.wasm")) {
				t.Fatalf("%s was written: %v", le.Path, err)
			}
		}
	})
}
