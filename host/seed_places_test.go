package host

import (
	"context"
	"testing"
)

// TestHost_seedSeedsWhatServes: a plugin folder may hold a file at each
// of a name's two places (ver.wasm and ver/ver.wasm), one that loads and
// one that does not: the one that loads serves, and the first node of a
// cluster must seed the store with it. Seeding picked the file by name
// among those read, the last in path order, so with the broken one in the
// subfolder the store got the broken module (and its manifest), and every
// other node failed to load ver.
func TestHost_seedSeedsWhatServes(t *testing.T) {
	dir := placePlugins(t, map[string]string{"ver.wasm": "reload/ver_v1.wasm", "ver/ver.wasm": "bad/init_traps.wasm"})
	s := newMemStore()
	a := newTestHost(t, dir, func(c *Config) { c.Store = s })
	if out, err := a.Call(context.Background(), &Request{ID: "ver"}); err != nil || string(out.Output) != "v1" {
		t.Fatalf("the seeding node: ver answered %q, %v; want v1", out.Output, err)
	}
	b := newTestHost(t, t.TempDir(), func(c *Config) { c.Store = s })
	if out, err := b.Call(context.Background(), &Request{ID: "ver"}); err != nil || string(out.Output) != "v1" {
		t.Fatalf("another node: ver answered %q, %v; want v1 (load errors %v)", out.Output, err, b.LoadErrors())
	}
}
