package host

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
)

// TestHost_incumbentUpdatedToContest: whoever may write plugins/game/
// takes another plugin down at the next restart by giving their own,
// serving plugin one of its RPC ids. Incumbency is by path: game's new
// file, which never served, is as much an incumbent as kv's, and a
// contest between incumbents refuses both. The hot reload refused the new
// game and kv served on; after the restart neither serves, and the record
// then written holds neither, so it lasts.
func TestHost_incumbentUpdatedToContest(t *testing.T) {
	dir := placePlugins(t, map[string]string{"kv/kv.wasm": "bad/dup_a.wasm", "game/game.wasm": "reload/srv.wasm"})
	record := servingFileAt(filepath.Join(t.TempDir(), "serving.json"))
	h := newTestHost(t, dir, record)
	if got := serving(h); !slices.Equal(got, []string{"game", "kv"}) {
		t.Fatalf("serving %v, want game and kv", got)
	}
	// game's author registers kv's RPC id in their next version.
	plantFile(t, filepath.Join(dir, "game", "game.wasm"), fixture(t, "bad/dup_b.wasm"))
	if _, err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := serving(h); !slices.Contains(got, "kv") {
		t.Fatalf("after the hot reload: serving %v, want kv still", got)
	}
	h2 := newTestHost(t, dir, record)
	if got := serving(h2); !slices.Contains(got, "kv") {
		t.Fatalf("after a restart: serving %v: game's author took kv down (failed: %v)", got, failedPaths(h2))
	}
}
