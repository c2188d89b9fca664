package host

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
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
