package host

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// TestHost_Store_manifest: in cluster mode a plugin's manifest travels with
// it through the store. A deploy with a manifest grants on every node; a
// manifest alone replaces the stored one and reloads the plugin on every
// node; removing it takes the grants away; a bad manifest is refused and
// stores nothing; a manifest alone for a plugin the store lacks is refused.
func TestHost_Store_manifest(t *testing.T) {
	ctx := context.Background()
	srv := helloServer(t)
	grant := []byte("[http]\nallow = [\"" + srv.URL + "\"]\n")
	s, a, b := twoNodes(t)
	wasm := fixture(t, "fetch.wasm")
	if _, err := a.DeployUpload(ctx, "fetch", Upload{Wasm: wasm, Manifest: grant}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]*Host{"a": a, "b": b} {
		if got := fetch(t, h, abi.HTTPRequest{URL: srv.URL + "/x"}); got.status != 0 || got.res.Status != 200 {
			t.Fatalf("node %s with the stored grant: %+v", name, got)
		}
	}

	if _, err := a.DeployUpload(ctx, "fetch", Upload{Manifest: []byte("[http]\nallow = []\n")}); err != nil {
		t.Fatal(err)
	}
	res, err := b.Reload(ctx)
	if err != nil || !slices.Equal(res.Loaded, []string{"fetch"}) {
		t.Fatalf("b.Reload after a manifest-only deploy = %+v, %v; want fetch reloaded", res, err)
	}
	if got := fetch(t, b, abi.HTTPRequest{URL: srv.URL + "/x"}); got.status != abi.StatusNotGranted {
		t.Fatalf("node b after the grant was withdrawn: %+v", got)
	}

	gen := s.gen
	if _, err := a.DeployUpload(ctx, "fetch", Upload{Manifest: []byte("[http]\nallow = [\"ftp://x\"]\n")}); !errors.Is(err, ErrDeployRefused) {
		t.Fatalf("bad manifest: %v, want ErrDeployRefused", err)
	}
	if _, err := a.DeployUpload(ctx, "nothere", Upload{Manifest: grant}); !errors.Is(err, ErrNoPlugin) {
		t.Fatalf("manifest alone for a plugin the store lacks: %v, want ErrNoPlugin", err)
	}
	if s.gen != gen {
		t.Fatalf("refused uploads moved the store's generation %d → %d", gen, s.gen)
	}

	if _, err := a.DeployUpload(ctx, "fetch", Upload{Manifest: grant}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DeployUpload(ctx, "fetch", Upload{RemoveManifest: true}); err != nil {
		t.Fatal(err)
	}
	if s.manifest["fetch"] != nil {
		t.Fatalf("the store still holds a manifest after RemoveManifest: %q", s.manifest["fetch"])
	}
	if _, err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, b, abi.HTTPRequest{URL: srv.URL + "/x"}); got.status != abi.StatusNotGranted {
		t.Fatalf("node b after the manifest was removed: %+v", got)
	}
}

// TestHost_Store_removeManifest: in cluster mode removing a plugin removes
// its manifest from the store with it, so that a later plugin of the name,
// deployed without one, has no grants on any node.
func TestHost_Store_removeManifest(t *testing.T) {
	ctx := context.Background()
	s, a, b := twoNodes(t)
	wasm := fixture(t, "fetch.wasm")
	grant := []byte("[http]\nallow = [\"https://api.stripe.com\", \"http://10.0.0.0/8:*\"]\n")
	if _, err := a.DeployUpload(ctx, "fetch", Upload{Wasm: wasm, Manifest: grant}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Remove(ctx, "fetch"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.manifest["fetch"]; ok {
		t.Fatalf("the store keeps the manifest of a removed plugin: %q", s.manifest["fetch"])
	}
	if _, err := a.Deploy(ctx, "fetch", wasm); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]*Host{"a": a, "b": b} {
		if p := h.Plugins(); len(p) != 1 || len(p[0].Grants()) != 0 {
			t.Fatalf("node %s: fetch redeployed without a manifest has grants %q", name, p[0].Grants())
		}
	}
}
