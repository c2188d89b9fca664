package host

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// subfolderManifestError is what the load error of a plugin with a
// manifest in its subfolder says.
const subfolderManifestError = "a manifest in a subfolder is not read: grants are the operator's; move it to "

// subfolderGame places fetch.wasm as plugin game in its subfolder,
// plugins/game/game.wasm, and returns the plugin folder.
func subfolderGame(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	plantFile(t, filepath.Join(dir, "game", "game.wasm"), fixture(t, "fetch.wasm"))
	return dir
}

// gameEnv returns what game.env answers: the plugin's environment, encoded.
func gameEnv(t *testing.T, h *Host) string {
	t.Helper()
	out, err := h.Call(context.Background(), &Request{ID: "game.env"})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Output)
}

// TestHost_subfolderWriterMakesNoGrants checks that whoever may write a
// plugin's subfolder (its author, in plugins/game/: the writer the layout
// rule guards against) cannot make the grants that RATIONALE.md says are
// the operator's to make ("Why plugins' outbound HTTP goes through a
// manifest the operator owns"): the manifest of plugins/game/game.wasm is
// plugins/game/game.toml, in that same folder. The operator deploys game's
// manifest narrowing -env to nothing and granting no outbound HTTP; the
// author rewrites the file beside their module, and at the next reload
// their plugin reads every -env entry (another plugin's API key) and calls
// a server the operator never granted. Now the manifest is read at the
// top of the plugin folder only (plugins/game.toml), and a manifest in the
// subfolder is a load error of the plugin: at a reload the version serving
// keeps serving under the operator's manifest, and at a start the plugin
// does not load at all.
func TestHost_subfolderWriterMakesNoGrants(t *testing.T) {
	srv := helloServer(t) // stands for the intranet, or 169.254.169.254
	dir := t.TempDir()
	game := filepath.Join(dir, "game")
	if err := os.Mkdir(game, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(game, "game.wasm"), fixture(t, "fetch.wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KV_API_KEY": "kv-secret"}
	h := newTestHost(t, dir, func(c *Config) { c.Env = env })
	// The operator's manifest, as PUT /_warden/plugins/game/manifest writes it.
	if _, err := h.DeployUpload(context.Background(), "game", Upload{Manifest: []byte("[env]\nallow = []\n")}); err != nil {
		t.Fatal(err)
	}
	if got := fetchAs(t, h, "game", abi.HTTPRequest{URL: srv.URL}); got.status != abi.StatusNotGranted {
		t.Fatalf("before: %+v, want NOT_GRANTED", got)
	}
	// The author of plugins/game/ rewrites the file in their folder.
	author := "[http]\nallow = [\"" + srv.URL + "\"]\n"
	if err := os.WriteFile(filepath.Join(game, "game.toml"), []byte(author), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := h.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The planted file is not read: it makes game's new load an error,
	// and the version serving keeps the operator's manifest.
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Err.Error(), subfolderManifestError) || len(res.Removed) != 0 {
		t.Errorf("reload %+v, want game failed with %q and not removed", res, subfolderManifestError)
	}
	out, err := h.Call(context.Background(), &Request{ID: "game.env"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out.Output), "kv-secret") {
		t.Errorf("the subfolder's writer lifted the operator's [env] narrowing: game reads %q", out.Output)
	}
	if got := fetchAs(t, h, "game", abi.HTTPRequest{URL: srv.URL}); got.status != abi.StatusNotGranted {
		t.Errorf("the subfolder's writer granted game outbound HTTP to %s: %+v, want NOT_GRANTED", srv.URL, got)
	}
	// Nor at the next start.
	h = newTestHost(t, dir, func(c *Config) { c.Env = env })
	if got := serving(h); len(got) != 0 {
		t.Errorf("after a restart serving %v, want game refused", got)
	}
	if errs := h.LoadErrors(); len(errs) != 1 || !strings.Contains(errs[0].Err.Error(), subfolderManifestError) {
		t.Errorf("after a restart load errors %v, want game's with %q", errs, subfolderManifestError)
	}
}

// TestHost_subfolderPluginTopManifest: the manifest of a plugin whose
// module is in its subfolder (plugins/game/game.wasm) is at the top of the
// plugin folder, plugins/game.toml, and its grants apply.
func TestHost_subfolderPluginTopManifest(t *testing.T) {
	srv := helloServer(t)
	dir := subfolderGame(t)
	plantFile(t, filepath.Join(dir, "game.toml"), []byte("[env]\nallow = [\"GAME_KEY\"]\n[http]\nallow = [\""+srv.URL+"\"]\n"))
	h := newTestHost(t, dir, func(c *Config) { c.Env = map[string]string{"GAME_KEY": "game-value", "KV_API_KEY": "kv-secret"} })
	if got := fetchAs(t, h, "game", abi.HTTPRequest{URL: srv.URL}); got.status != 0 || got.res.Status != 200 {
		t.Fatalf("game under plugins/game.toml: %+v, want granted", got)
	}
	if env := gameEnv(t, h); !strings.Contains(env, "game-value") || strings.Contains(env, "kv-secret") {
		t.Fatalf("game's env %q, want GAME_KEY only", env)
	}
}

// TestHost_subfolderManifestIsLoadError: a manifest in a plugin's
// subfolder (the place earlier versions read it from) is never read: it
// makes the plugin a load error that says where the manifest goes, at a
// start and at a reload, where the version serving keeps serving with the
// operator's grants; a deploy into the subfolder is refused, nothing
// written. Moved to the top, it loads.
func TestHost_subfolderManifestIsLoadError(t *testing.T) {
	ctx := context.Background()
	srv := helloServer(t)
	grant := []byte("[http]\nallow = [\"" + srv.URL + "\"]\n")
	t.Run("AtStart", func(t *testing.T) {
		dir := subfolderGame(t)
		plantFile(t, filepath.Join(dir, "game", "game.toml"), grant) // an upgrade's old layout
		h := newTestHost(t, dir, nil)
		if got := serving(h); len(got) != 0 {
			t.Fatalf("serving %v, want game refused", got)
		}
		want := subfolderManifestError + filepath.Join(dir, "game.toml")
		if errs := h.LoadErrors(); len(errs) != 1 || !strings.Contains(errs[0].Err.Error(), want) {
			t.Fatalf("load errors %v, want %q", errs, want)
		}
		if err := os.Rename(filepath.Join(dir, "game", "game.toml"), filepath.Join(dir, "game.toml")); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if got := fetchAs(t, h, "game", abi.HTTPRequest{URL: srv.URL}); got.status != 0 || got.res.Status != 200 {
			t.Fatalf("after the move: %+v, want granted; load errors %v", got, h.LoadErrors())
		}
	})
	t.Run("AtReloadKeepsServing", func(t *testing.T) {
		dir := subfolderGame(t)
		plantFile(t, filepath.Join(dir, "game.toml"), grant)
		h := newTestHost(t, dir, nil)
		before := h.Plugins()
		plantFile(t, filepath.Join(dir, "game", "game.toml"), []byte("[http]\nallow = []\n"))
		res, err := h.Reload(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Removed) != 0 || len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Err.Error(), subfolderManifestError) {
			t.Fatalf("reload %+v, want game failed with %q and not removed", res, subfolderManifestError)
		}
		if after := h.Plugins(); len(after) != 1 || after[0] != before[0] {
			t.Fatalf("serving %v, want the version that served before", after)
		}
		if got := fetchAs(t, h, "game", abi.HTTPRequest{URL: srv.URL}); got.status != 0 || got.res.Status != 200 {
			t.Fatalf("the serving version lost its grants: %+v", got)
		}
	})
	t.Run("DeployRefused", func(t *testing.T) {
		dir := subfolderGame(t)
		h := newTestHost(t, dir, nil)
		stray := filepath.Join(dir, "game", "game.toml")
		plantFile(t, stray, grant)
		for _, u := range []Upload{{Wasm: fixture(t, "fetch.wasm")}, {Manifest: grant}, {Wasm: fixture(t, "fetch.wasm"), Manifest: grant}} {
			res, err := h.DeployUpload(ctx, "game", u)
			if !errors.Is(err, ErrDeployRefused) || !strings.Contains(err.Error(), subfolderManifestError) {
				t.Fatalf("deploy: %v, want refused with %q", err, subfolderManifestError)
			}
			if res == nil || len(res.Failed) != 1 || res.Failed[0].Path != filepath.Join(dir, "game", "game.wasm") {
				t.Fatalf("deploy result %+v, want game's module failed", res)
			}
		}
		if _, err := os.Lstat(filepath.Join(dir, "game.toml")); !os.IsNotExist(err) {
			t.Fatalf("game.toml written: %v", err)
		}
		if b, err := os.ReadFile(stray); err != nil || string(b) != string(grant) {
			t.Fatalf("the subfolder's file: %q, %v", b, err)
		}
	})
}

// TestHost_DeployUpload_subfolderManifestAtTop: a deploy of a plugin
// whose module serves from its subfolder writes the module there and the
// manifest at the top of the plugin folder, with the module or alone, and
// removes it from there; DELETE removes the module and the manifest.
func TestHost_DeployUpload_subfolderManifestAtTop(t *testing.T) {
	ctx := context.Background()
	srv := helloServer(t)
	grant := []byte("[http]\nallow = [\"" + srv.URL + "\"]\n")
	dir := subfolderGame(t)
	h := newTestHost(t, dir, nil)
	module, top, sub := filepath.Join(dir, "game", "game.wasm"), filepath.Join(dir, "game.toml"), filepath.Join(dir, "game", "game.toml")
	check := func(t *testing.T, wantManifest []byte, wantStatus abi.Status) {
		t.Helper()
		b, err := os.ReadFile(top)
		switch {
		case wantManifest == nil && !os.IsNotExist(err):
			t.Fatalf("game.toml: %q, %v; want none", b, err)
		case wantManifest != nil && (err != nil || string(b) != string(wantManifest)):
			t.Fatalf("game.toml: %q, %v; want %q", b, err, wantManifest)
		}
		if _, err := os.Lstat(sub); !os.IsNotExist(err) {
			t.Fatalf("game/game.toml: %v, want none", err)
		}
		if p := h.Plugins(); len(p) != 1 || p[0].Path != module {
			t.Fatalf("serving %v, want game from %s", p, module)
		}
		if got := fetchAs(t, h, "game", abi.HTTPRequest{URL: srv.URL}); got.status != wantStatus {
			t.Fatalf("fetch: %+v, want status %d", got, wantStatus)
		}
	}
	v2 := append(fixture(t, "fetch.wasm"), 0, 7, 1, 'x', 1, 2, 3, 4, 5) // and a custom section: a new version
	for _, step := range []struct {
		name   string
		u      Upload
		mf     []byte
		status abi.Status
	}{
		{"ModuleAndManifest", Upload{Wasm: v2, Manifest: grant}, grant, 0},
		{"RemoveManifest", Upload{RemoveManifest: true}, nil, abi.StatusNotGranted},
		{"ManifestAlone", Upload{Manifest: grant}, grant, 0},
		{"ModuleRemovingManifest", Upload{Wasm: fixture(t, "fetch.wasm"), RemoveManifest: true}, nil, abi.StatusNotGranted},
	} {
		if _, err := h.DeployUpload(ctx, "game", step.u); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		t.Run(step.name, func(t *testing.T) { check(t, step.mf, step.status) })
	}
	if _, err := h.DeployUpload(ctx, "game", Upload{Manifest: grant}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Remove(ctx, "game"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{module, top} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s after Remove: %v", p, err)
		}
	}
	if got := serving(h); len(got) != 0 {
		t.Errorf("serving %v after Remove", got)
	}
}

// TestHost_watchSubfolderPluginManifest: the watcher reloads a plugin
// whose module is in its subfolder when its manifest at the top of the
// plugin folder changes, and when a manifest comes to or goes from its
// subfolder (a load error, then none).
func TestHost_watchSubfolderPluginManifest(t *testing.T) {
	srv := helloServer(t)
	dir := subfolderGame(t)
	h, eventually := watchedHost(t, dir)
	granted := func() bool { return fetchAs(t, h, "game", abi.HTTPRequest{URL: srv.URL}).status == 0 }
	writeManifest(t, dir, "game", "[http]\nallow = [\""+srv.URL+"\"]\n")
	eventually("applied plugins/game.toml", granted)
	sub := filepath.Join(dir, "game", "game.toml")
	plantFile(t, sub, []byte("[http]\nallow = []\n"))
	eventually("refused game/game.toml", func() bool {
		errs := h.LoadErrors()
		return len(errs) == 1 && strings.Contains(errs[0].Err.Error(), subfolderManifestError)
	})
	if !granted() {
		t.Fatal("the serving version lost its grants")
	}
	if err := os.Remove(sub); err != nil {
		t.Fatal(err)
	}
	eventually("cleared the load error", func() bool { return len(h.LoadErrors()) == 0 })
}

// TestHost_seedSubfolderPluginManifest: the first node of a cluster seeds
// a plugin whose module is in its subfolder with its manifest at the top
// of the plugin folder; with a manifest in its subfolder the plugin fails
// to load and is not seeded, so that no node serves it with grants
// whoever may write the subfolder made.
func TestHost_seedSubfolderPluginManifest(t *testing.T) {
	grant := []byte("[http]\nallow = [\"https://api.example\"]\n")
	dir := subfolderGame(t)
	plantFile(t, filepath.Join(dir, "game.toml"), grant)
	s := newMemStore()
	newTestHost(t, dir, func(c *Config) { c.Store = s })
	if s.wasm["game"] == nil || string(s.manifest["game"]) != string(grant) {
		t.Fatalf("seeded game %d bytes with manifest %q, want plugins/game.toml's %q", len(s.wasm["game"]), s.manifest["game"], grant)
	}

	dir = subfolderGame(t)
	plantFile(t, filepath.Join(dir, "game", "game.toml"), grant)
	plantFile(t, filepath.Join(dir, "other.wasm"), fixture(t, "fetch.wasm")) // for the seed to write
	s = newMemStore()
	h := newTestHost(t, dir, func(c *Config) { c.Store = s })
	if _, ok := s.wasm["game"]; ok || s.wasm["other"] == nil {
		t.Fatalf("seeded %v, want other and not game", slices.Sorted(maps.Keys(s.wasm)))
	}
	if errs := h.LoadErrors(); len(errs) != 1 || !strings.Contains(errs[0].Err.Error(), subfolderManifestError) {
		t.Fatalf("load errors %v, want game's with %q", errs, subfolderManifestError)
	}
}
