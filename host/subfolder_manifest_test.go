package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// TestHost_subfolderWriterMakesNoGrants checks that whoever may write a
// plugin's subfolder (its author, in plugins/game/: the writer the layout
// rule guards against) cannot make the grants that RATIONALE.md says are
// the operator's to make ("Why plugins' outbound HTTP goes through a
// manifest the operator owns"): the manifest of plugins/game/game.wasm is
// plugins/game/game.toml, in that same folder. The operator deploys game's
// manifest narrowing -env to nothing and granting no outbound HTTP; the
// author rewrites the file beside their module, and at the next reload
// their plugin reads every -env entry (another plugin's API key) and calls
// a server the operator never granted.
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
	if _, err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
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
}
