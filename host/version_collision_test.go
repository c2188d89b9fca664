package host

import (
	"context"
	"os"
	"testing"
)

// withSection returns the plugin at path with a custom section "c"
// appended, holding the 6 little-endian bytes of x: the code is the same,
// the file and its SHA-256 differ.
func withSection(t *testing.T, path string, x uint64) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sec := []byte{0, 8, 1, 'c'}
	for i := range 6 {
		sec = append(sec, byte(x>>(8*i)))
	}
	return append(b, sec...)
}

// TestHost_versionPrefixCollision: a plugin version, as shown, is 12 hex
// digits (48 bits) of its SHA-256, which a birthday search matches between
// two modules in seconds (the two section values below were found so, by
// a hostile review). What decides whether a node loads a new upload must be
// the whole hash: with the prefix, the deploy of the second module was
// stored, so that a node started later served it, while every running
// node, the receiving one included, kept serving the first.
func TestHost_versionPrefixCollision(t *testing.T) {
	ctx := context.Background()
	first := withSection(t, "testdata/reload/ver_v2.wasm", 31581778069761)
	second := withSection(t, "testdata/reload/ver_v1.wasm", 103378426427118)
	if version(first) != version(second) {
		t.Fatalf("the fixtures no longer collide: %s and %s", version(first), version(second))
	}
	s := newMemStore()
	a := newStoreHost(t, s, t.TempDir())
	if _, err := a.Deploy(ctx, "ver", first); err != nil {
		t.Fatal(err)
	}
	if got := callVer(a); got != "v2" {
		t.Fatalf("after the first deploy: %q, want v2", got)
	}
	res, err := a.Deploy(ctx, "ver", second)
	if err != nil {
		t.Fatalf("second deploy: %v", err)
	}
	if len(res.Loaded) != 1 {
		t.Errorf("second deploy loaded %v, want ver", res.Loaded)
	}
	b := newStoreHost(t, s, t.TempDir())
	if ga, gb := callVer(a), callVer(b); ga != "v1" || gb != "v1" {
		t.Errorf("after the second deploy, the receiving node serves %q and a node started afterwards %q, want v1 on both", ga, gb)
	}

	// Folder mode: the same upload over a file of the first.
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/ver.wasm", first, 0o644); err != nil {
		t.Fatal(err)
	}
	h := newTestHost(t, dir, nil)
	if got := callVer(h); got != "v2" {
		t.Fatalf("folder mode, first: %q, want v2", got)
	}
	if _, err := h.Deploy(ctx, "ver", second); err != nil {
		t.Fatal(err)
	}
	if got := callVer(h); got != "v1" {
		t.Errorf("folder mode, after deploying the second: %q, want v1", got)
	}
}
