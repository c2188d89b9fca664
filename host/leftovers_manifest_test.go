package host

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestHost_New_keepsAsideManifestWithNoneInPlace: a deploy of game's
// module and manifest that stopped between moving the old manifest aside
// and putting the new one in (replaceTogether's steps 2 to 4) leaves
// plugins/.game.toml.R.old, the operator's only copy of game's grants,
// and no plugins/game.toml. replaceTogether counts on there being no
// module then, so that nothing loads without its manifest; but the author
// of plugins/game/ may put a module back in that folder before the next
// start. The start then removes the operator's manifest as a leftover
// ("a module is back") and game loads with no manifest at all, which
// means every -env entry: another plugin's API key.
func TestHost_New_keepsAsideManifestWithNoneInPlace(t *testing.T) {
	dir := t.TempDir()
	aside := filepath.Join(dir, ".game.toml.5.old")
	plantFile(t, aside, []byte("[env]\nallow = []\n"))                                     // the operator's, moved aside
	plantFile(t, filepath.Join(dir, "game", ".game.wasm.6.old"), fixture(t, "fetch.wasm")) // the old module, moved aside
	plantFile(t, filepath.Join(dir, "game", "game.wasm"), fixture(t, "fetch.wasm"))        // the author's, put back
	h := newTestHost(t, dir, func(c *Config) { c.Env = map[string]string{"KV_API_KEY": "kv-secret"} })
	if _, err := os.Lstat(aside); err != nil {
		t.Errorf("the operator's manifest moved aside, with none in its place: %v", err)
	}
	if slices.Contains(serving(h), "game") && strings.Contains(gameEnv(t, h), "kv-secret") {
		t.Errorf("game serves with no manifest after a deploy cut short, and reads every -env entry")
	}
	// game is refused, saying where its grants are.
	refused := slices.ContainsFunc(h.LoadErrors(), func(le LoadError) bool {
		return le.Plugin == "game" && strings.Contains(le.Err.Error(), aside)
	})
	if slices.Contains(serving(h), "game") || !refused {
		t.Errorf("game: serving %v, load errors %v; want it refused, naming %s", serving(h), h.LoadErrors(), aside)
	}
	// Once the operator puts the manifest back, game loads under it.
	if err := os.Rename(aside, filepath.Join(dir, "game.toml")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(serving(h), "game") || strings.Contains(gameEnv(t, h), "kv-secret") {
		t.Errorf("game with its manifest back: serving %v, want it serving without kv's key", serving(h))
	}
}
