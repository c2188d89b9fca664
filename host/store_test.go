package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// memStore is a PluginStore in memory, shared by the hosts of one test as
// PostgreSQL is by a cluster's nodes (pluginstore's own tests run it on
// PostgreSQL; cmd/server's run real nodes on it). beforePut, when set,
// runs before each Put, as another node's write would.
type memStore struct {
	mu        sync.Mutex
	gen       int64
	wasm      map[string][]byte
	manifest  map[string][]byte
	beforePut func()
}

func newMemStore() *memStore {
	return &memStore{wasm: map[string][]byte{}, manifest: map[string][]byte{}}
}

func (s *memStore) List(context.Context) ([]StoredPlugin, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []StoredPlugin
	for name, w := range s.wasm {
		sum := sha256.Sum256(w)
		list = append(list, StoredPlugin{Name: name, SHA256: hex.EncodeToString(sum[:]), Manifest: s.manifest[name]})
	}
	slices.SortFunc(list, func(a, b StoredPlugin) int { return strings.Compare(a.Name, b.Name) })
	return list, s.gen, nil
}

func (s *memStore) Get(_ context.Context, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.wasm[name]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", name, ErrNoPlugin)
	}
	return w, nil
}

func (s *memStore) Put(_ context.Context, gen int64, plugins []StoredPlugin) error {
	if f := s.beforePut; f != nil {
		s.beforePut = nil
		f()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen {
		return fmt.Errorf("put at %d, store at %d: %w", gen, s.gen, ErrStoreChanged)
	}
	for _, p := range plugins {
		s.wasm[p.Name] = p.Wasm
		s.manifest[p.Name] = p.Manifest
	}
	s.gen++
	return nil
}

func (s *memStore) Delete(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.wasm[name]; !ok {
		return fmt.Errorf("delete %s: %w", name, ErrNoPlugin)
	}
	delete(s.wasm, name)
	delete(s.manifest, name)
	s.gen++
	return nil
}

// newStoreHost starts a host in cluster mode on s, with dir as its plugin
// folder.
func newStoreHost(t *testing.T, s PluginStore, dir string) *Host {
	t.Helper()
	return newTestHost(t, dir, func(c *Config) { c.Store = s })
}

// twoNodes starts two hosts on one new store: a, whose folder holds
// seed's fixtures and seeds the store, then b, whose folder is empty.
func twoNodes(t *testing.T, seed ...string) (s *memStore, a, b *Host) {
	t.Helper()
	s = newMemStore()
	a = newStoreHost(t, s, pluginDir(t, seed...))
	b = newStoreHost(t, s, t.TempDir())
	return s, a, b
}

// callVer returns what h's "ver" RPC answers, or the error's text.
func callVer(h *Host) string {
	res, err := h.Call(context.Background(), &Request{ID: "ver"})
	if err != nil {
		return err.Error()
	}
	return string(res.Output)
}

// TestHost_Store_seed: the first node on an empty store seeds it from its
// folder; a later node loads the store and ignores its own folder.
func TestHost_Store_seed(t *testing.T) {
	s := newMemStore()
	a := newStoreHost(t, s, pluginDir(t, "reload/ver_v1.wasm"))
	if got := callVer(a); got != "v1" {
		t.Fatalf("seeding node: ver = %q, want v1", got)
	}
	if _, ok := s.wasm["ver_v1"]; !ok || s.gen != 1 {
		t.Fatalf("store after seeding: generation %d, plugins %v", s.gen, slices.Collect(maps.Keys(s.wasm)))
	}
	b := newStoreHost(t, s, pluginDir(t, "reload/ver_v2.wasm"))
	if got := callVer(b); got != "v1" {
		t.Fatalf("later node: ver = %q, want v1 from the store, not its folder's v2", got)
	}
	if len(b.Plugins()) != 1 || b.Plugins()[0].Path != "store:/ver_v1.wasm" || s.gen != 1 {
		t.Fatalf("later node serves %+v; store generation %d", b.Plugins(), s.gen)
	}
}

// TestHost_Store_seed_empty: a folder with no plugin that loads seeds
// nothing, so that the next node may.
func TestHost_Store_seed_empty(t *testing.T) {
	s := newMemStore()
	a := newStoreHost(t, s, pluginDir(t, "bad/init_traps.wasm"))
	if len(a.Plugins()) != 0 || len(a.LoadErrors()) != 1 || s.gen != 0 {
		t.Fatalf("plugins %d, load errors %+v, generation %d", len(a.Plugins()), a.LoadErrors(), s.gen)
	}
	newStoreHost(t, s, pluginDir(t, "reload/ver_v1.wasm"))
	if _, ok := s.wasm["ver_v1"]; !ok {
		t.Fatal("the second node did not seed the still empty store")
	}
}

// TestHost_Store_noFolder: a node without a plugin folder starts on an
// empty store, serving nothing, and seeds nothing.
func TestHost_Store_noFolder(t *testing.T) {
	s := newMemStore()
	h := newStoreHost(t, s, filepath.Join(t.TempDir(), "missing"))
	if len(h.Plugins()) != 0 || s.gen != 0 {
		t.Fatalf("plugins %d, generation %d", len(h.Plugins()), s.gen)
	}
	if _, err := h.Deploy(context.Background(), "ver", fixture(t, "reload/ver_v1.wasm")); err != nil || callVer(h) != "v1" {
		t.Fatalf("Deploy = %v; ver = %q", err, callVer(h))
	}
}

// TestHost_Store_Deploy: an accepted upload is stored and serves; another
// node serves it after its next Reload; a refused one changes no store and
// no node.
func TestHost_Store_Deploy(t *testing.T) {
	ctx := context.Background()
	s, a, b := twoNodes(t, "reload/srv.wasm")
	if _, err := a.Deploy(ctx, "ver", fixture(t, "reload/ver_v1.wasm")); err != nil {
		t.Fatal(err)
	}
	if got := callVer(a); got != "v1" {
		t.Fatalf("deploying node: ver = %q", got)
	}
	if got := callVer(b); got == "v1" {
		t.Fatal("the other node serves v1 before any reload")
	}
	if res, err := b.Reload(ctx); err != nil || !slices.Equal(res.Loaded, []string{"ver"}) {
		t.Fatalf("Reload = %+v, %v", res, err)
	}
	if got := callVer(b); got != "v1" {
		t.Fatalf("other node: ver = %q after Reload", got)
	}
	gen, before := s.gen, a.reg.Load()
	for _, f := range []string{"reload/srv_open.wasm", "bad/init_traps.wasm"} {
		if _, err := a.Deploy(ctx, "open", fixture(t, f)); !errors.Is(err, ErrDeployRefused) {
			t.Fatalf("Deploy %s = %v, want ErrDeployRefused", f, err)
		}
	}
	if s.gen != gen || s.wasm["open"] != nil || a.reg.Load() != before {
		t.Fatalf("a refused deploy changed the store (generation %d → %d) or the registry", gen, s.gen)
	}
}

// TestHost_Store_Deploy_raced: when another node writes the store between
// the validation and the write, the upload is validated again against the
// new set, then stored; both plugins serve.
func TestHost_Store_Deploy_raced(t *testing.T) {
	ctx := context.Background()
	s, a, b := twoNodes(t)
	s.beforePut = func() {
		if _, err := b.Deploy(ctx, "srv", fixture(t, "reload/srv.wasm")); err != nil {
			t.Error(err)
		}
	}
	if _, err := a.Deploy(ctx, "ver", fixture(t, "reload/ver_v2.wasm")); err != nil {
		t.Fatal(err)
	}
	if got := callVer(a); got != "v2" || s.gen != 2 || len(a.Plugins()) != 2 {
		t.Fatalf("ver = %q, generation %d, plugins %d; want v2, 2, 2", got, s.gen, len(a.Plugins()))
	}
	// And an upload that the other node's write makes conflict is refused.
	s.beforePut = func() {
		if _, err := b.Deploy(ctx, "srv", fixture(t, "reload/srv.wasm")); err != nil {
			t.Error(err)
		}
	}
	if _, err := a.Remove(ctx, "srv"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Deploy(ctx, "open", fixture(t, "reload/srv_open.wasm")); !errors.Is(err, ErrDeployRefused) {
		t.Fatalf("Deploy of a plugin that conflicts with one stored meanwhile = %v, want ErrDeployRefused", err)
	}
	if s.wasm["open"] != nil {
		t.Fatal("the conflicting upload was stored")
	}
}

// TestHost_Store_Deploy_ErrStoreChanged: when other nodes write the store
// before every attempt, the deploy gives up after maxStoreAttempts with
// ErrStoreChanged, having stored nothing of its own.
func TestHost_Store_Deploy_ErrStoreChanged(t *testing.T) {
	ctx := context.Background()
	s, a, b := twoNodes(t)
	writes := 0
	var writeFirst func()
	writeFirst = func() {
		writes++
		if _, err := b.Deploy(ctx, "srv", fixture(t, "reload/srv.wasm")); err != nil {
			t.Error(err)
		}
		s.beforePut = writeFirst // and again before the next attempt
	}
	s.beforePut = writeFirst
	if _, err := a.Deploy(ctx, "ver", fixture(t, "reload/ver_v2.wasm")); !errors.Is(err, ErrStoreChanged) {
		t.Fatalf("Deploy = %v, want ErrStoreChanged", err)
	}
	s.beforePut = nil
	if writes != maxStoreAttempts || s.wasm["ver"] != nil {
		t.Fatalf("%d writes by the other node, ver stored %v; want %d and not stored", writes, s.wasm["ver"] != nil, maxStoreAttempts)
	}
}

// TestHost_Store_Remove: a removal deletes the plugin from the store; it
// stops serving here, and on another node at its next Reload.
func TestHost_Store_Remove(t *testing.T) {
	ctx := context.Background()
	s, a, b := twoNodes(t, "reload/ver_v1.wasm")
	if res, err := a.Remove(ctx, "ver_v1"); err != nil || !slices.Equal(res.Removed, []string{"ver_v1"}) {
		t.Fatalf("Remove = %+v, %v", res, err)
	}
	if _, ok := s.wasm["ver_v1"]; ok || len(a.Plugins()) != 0 {
		t.Fatal("still stored or serving after Remove")
	}
	if _, err := b.Reload(ctx); err != nil || len(b.Plugins()) != 0 {
		t.Fatalf("other node after Reload: %v, plugins %d", err, len(b.Plugins()))
	}
	if _, err := a.Remove(ctx, "ver_v1"); !errors.Is(err, ErrNoPlugin) {
		t.Fatalf("Remove again = %v, want ErrNoPlugin", err)
	}
}

// TestHost_Store_hammer deploys two versions of one plugin from two nodes
// at once, with reloads between, under -race: every deploy either
// succeeds or gives up with ErrStoreChanged, and after a last reload both
// nodes serve the version the store holds.
func TestHost_Store_hammer(t *testing.T) {
	ctx := context.Background()
	s, a, b := twoNodes(t)
	versions := [][]byte{fixture(t, "reload/ver_v1.wasm"), fixture(t, "reload/ver_v2.wasm")}
	var wg sync.WaitGroup
	for g, h := range []*Host{a, b, a, b} {
		wg.Go(func() {
			for i := range 10 {
				if _, err := h.Deploy(ctx, "ver", versions[(g+i)%2]); err != nil && !errors.Is(err, ErrStoreChanged) {
					t.Error(err)
				}
				if _, err := h.Reload(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	want := map[string]string{version(versions[0]): "v1", version(versions[1]): "v2"}[version(s.wasm["ver"])]
	for _, h := range []*Host{a, b} {
		if _, err := h.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if got := callVer(h); got != want {
			t.Fatalf("ver = %q, the store holds %q", got, want)
		}
	}
}

// TestHost_seedKeepsManifests: the first node of a cluster seeds the empty
// store from its plugin folder, manifests included. The operator's
// fetch.toml lets the plugin see API_URL and not DB_PASSWORD; after the
// seed, another node and the seeding node after a reload serve the plugin
// under that manifest, not with every -env entry.
func TestHost_seedKeepsManifests(t *testing.T) {
	env := map[string]string{"API_URL": "https://api.example.com", "DB_PASSWORD": "secret"}
	want := encodeStringMap(map[string]string{"API_URL": env["API_URL"]})
	dir := pluginDir(t, "fetch.wasm")
	writeManifest(t, dir, "fetch", "[env]\nallow = [\"API_URL\"]\n")
	s := newMemStore()
	a := newTestHost(t, dir, func(c *Config) { c.Store = s; c.Env = env })
	b := newTestHost(t, t.TempDir(), func(c *Config) { c.Store = s; c.Env = env })
	envOf := func(h *Host, who string) {
		t.Helper()
		out, err := h.Call(context.Background(), &Request{ID: "fetch.env"})
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		if string(out.Output) != want {
			t.Errorf("%s: env %q, want %q", who, out.Output, want)
		}
	}
	envOf(a, "the seeding node")
	envOf(b, "another node")
	if _, err := a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	envOf(a, "the seeding node after a reload")
}
