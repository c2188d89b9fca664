package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestServer_deployPlugin_plantedLink: a link that a plugin's author
// planted in the plugin's subfolder, under the temporary name a deploy
// once wrote through (plugins/echo/.echo.wasm.tmp), pointing at the
// accounts database, leaves the database intact when the operator deploys
// the author's next version; the plugin file is a regular file again.
func TestServer_deployPlugin_plantedLink(t *testing.T) {
	cEcho := readFixture(t, "examples/c/echo/echo.wasm")
	s, dir, data := deployServer(t, 1<<20)
	db := filepath.Join(data, "warden.db")
	before, err := os.ReadFile(db)
	if err != nil || !bytes.HasPrefix(before, []byte("SQLite format 3")) {
		t.Fatalf("warden.db: %v", err)
	}
	if err := os.Symlink(db, filepath.Join(dir, "echo", ".echo.wasm.tmp")); err != nil {
		t.Fatal(err)
	}
	if res := putPlugin(t, s, "echo", cEcho); res.Status != 200 {
		t.Fatalf("deploy echo: %d %s", res.Status, res.Body)
	}
	if after, _ := os.ReadFile(db); !bytes.HasPrefix(after, []byte("SQLite format 3")) {
		t.Fatalf("the deploy wrote through the planted link into warden.db: it starts %q", after[:min(8, len(after))])
	}
	p := filepath.Join(dir, "echo", "echo.wasm")
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("echo.wasm after the deploy: %v, %v; want a regular file", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, cEcho) {
		t.Fatal("echo.wasm does not hold the deployed version")
	}
}
