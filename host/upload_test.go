package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// TestHost_DeployUpload deploys manifests through the host, alone and with
// the module.
func TestHost_DeployUpload(t *testing.T) {
	ctx := context.Background()
	srv := helloServer(t)
	grant := []byte("[http]\nallow = [\"" + srv.URL + "\"]\n")
	get := abi.HTTPRequest{URL: srv.URL + "/"}

	t.Run("OKManifestOnly", func(t *testing.T) {
		dir := pluginDir(t, "fetch.wasm")
		h := newTestHost(t, dir, nil)
		res, err := h.DeployUpload(ctx, "fetch", Upload{Manifest: grant})
		if err != nil || !slices.Equal(res.Loaded, []string{"fetch"}) {
			t.Fatalf("DeployUpload = %+v, %v", res, err)
		}
		if got := fetch(t, h, get); got.status != 0 {
			t.Fatalf("%+v", got)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "fetch.toml")); err != nil || string(b) != string(grant) {
			t.Fatalf("fetch.toml: %q, %v", b, err)
		}
		// The module alone keeps the manifest beside it.
		if _, err := h.Deploy(ctx, "fetch", fixture(t, "fetch.wasm")); err != nil {
			t.Fatal(err)
		}
		if got := fetch(t, h, get); got.status != 0 {
			t.Fatalf("after deploying the module alone: %+v", got)
		}
		if _, err := h.DeployUpload(ctx, "fetch", Upload{RemoveManifest: true}); err != nil {
			t.Fatal(err)
		}
		if got := fetch(t, h, get); got.status != abi.StatusNotGranted {
			t.Fatalf("after removing the manifest: %+v", got)
		}
		if _, err := os.Stat(filepath.Join(dir, "fetch.toml")); !os.IsNotExist(err) {
			t.Fatalf("fetch.toml still there: %v", err)
		}
	})
	t.Run("OKManifestFirst", func(t *testing.T) {
		dir := t.TempDir()
		h := newTestHost(t, dir, nil)
		if _, err := h.DeployUpload(ctx, "fetch", Upload{Manifest: grant}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Deploy(ctx, "fetch", fixture(t, "fetch.wasm")); err != nil {
			t.Fatal(err)
		}
		if got := fetch(t, h, get); got.status != 0 {
			t.Fatalf("the first version did not load under the manifest sent before it: %+v", got)
		}
	})
	t.Run("ErrDeployRefused", func(t *testing.T) {
		dir := pluginDir(t, "fetch.wasm")
		writeManifest(t, dir, "fetch", string(grant))
		h := newTestHost(t, dir, nil)
		before := h.reg.Load()
		for _, u := range []Upload{
			{Manifest: []byte("[http]\nallow = [\"*\"]\n")},
			{Manifest: []byte("[limits]\ninstances = 100000\n")},
			{Wasm: fixture(t, "fetch.wasm"), Manifest: []byte("nonsense = 1\n")},
		} {
			_, err := h.DeployUpload(ctx, "fetch", u)
			if !errors.Is(err, ErrDeployRefused) {
				t.Errorf("%q: %v, want ErrDeployRefused", u.Manifest, err)
			}
		}
		if _, err := h.DeployUpload(ctx, "new", Upload{Manifest: []byte("[x]\n")}); !errors.Is(err, ErrDeployRefused) {
			t.Errorf("a bad manifest for a plugin still to come: %v, want ErrDeployRefused", err)
		}
		if h.reg.Load() != before {
			t.Fatal("a refused manifest swapped the registry")
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "fetch.toml")); string(b) != string(grant) {
			t.Fatalf("a refused manifest was written: %q", b)
		}
		if _, err := os.Stat(filepath.Join(dir, "new.toml")); !os.IsNotExist(err) {
			t.Fatal("a refused manifest for a plugin still to come was written")
		}
		if got := fetch(t, h, get); got.status != 0 {
			t.Fatalf("the serving version lost its grants: %+v", got)
		}
	})
	t.Run("ErrNoPlugin", func(t *testing.T) {
		h := newTestHost(t, t.TempDir(), nil)
		if _, err := h.DeployUpload(ctx, "ghost", Upload{RemoveManifest: true}); !errors.Is(err, ErrNoPlugin) {
			t.Fatalf("%v, want ErrNoPlugin", err)
		}
	})
}
