package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// servingFileAt returns a Config edit that records the serving plugin
// files in path.
func servingFileAt(path string) func(*Config) {
	return func(c *Config) { c.ServingFile = path }
}

// plantFile writes b at path, making its folder.
func plantFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHost_incumbentAtRestart: a file planted beside a serving plugin,
// claiming its name or an RPC id of it, is refused at a hot reload, and at
// the next start too, while the plugin serves on: the files that served
// are recorded (Config.ServingFile) and come first at a start as they do
// at a hot reload. Before, nothing at a start knew which claimant had
// served, every claimant of a contest was refused, and the planted file
// took the real plugin down with it at every restart (with
// -strict-plugins, the server did not start); found by a hostile review.
// The planted file is at the name's other place (ver/ver.wasm beside
// ver.wasm), or a plugin of its own (dup_b/dup_b.wasm); in a subfolder
// not named after it (attacker/ver.wasm), the layout rule refuses it
// first, at both loads.
func TestHost_incumbentAtRestart(t *testing.T) {
	for _, tt := range []struct {
		name                string
		real, realFixture   string
		planted, plantedFix string
		want, wantFailed    string
		why                 string // what the planted file's error says
	}{
		{"SameName", "ver.wasm", "reload/ver_v1.wasm", "ver/ver.wasm", "reload/ver_v2.wasm", "ver", "ver/ver.wasm", "served before"},
		{"SameRPC", "dup_a.wasm", "bad/dup_a.wasm", "dup_b/dup_b.wasm", "bad/dup_b.wasm", "dup_a", "dup_b/dup_b.wasm", "served before"},
		{"OtherSubfolder", "ver.wasm", "reload/ver_v1.wasm", "attacker/ver.wasm", "reload/ver_v2.wasm", "ver", "attacker/ver.wasm", "must be named after its folder"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := placePlugins(t, map[string]string{tt.real: tt.realFixture, "srv.wasm": "reload/srv.wasm"})
			record := servingFileAt(filepath.Join(t.TempDir(), "serving.json"))
			h := newTestHost(t, dir, record)
			plantFile(t, filepath.Join(dir, tt.planted), fixture(t, tt.plantedFix))
			if _, err := h.Reload(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := serving(h); !slices.Contains(got, tt.want) {
				t.Fatalf("after the planted file's hot reload: serving %v, want %s still", got, tt.want)
			}
			h2 := newTestHost(t, dir, record)
			if got := serving(h2); !slices.Contains(got, tt.want) {
				t.Fatalf("after a restart: serving %v: the planted %s took %s down with it (load errors: %v)", got, tt.planted, tt.want, failedPaths(h2))
			}
			if got := failedPaths(h2); !slices.Equal(got, []string{tt.wantFailed}) {
				t.Fatalf("after a restart: failed %v, want only the planted file", got)
			}
			if err := h2.LoadErrors()[0].Err; !strings.Contains(err.Error(), tt.why) {
				t.Errorf("the planted file's error %q does not say %q", err, tt.why)
			}
		})
	}
}

// TestHost_incumbentAtRestart_noRecord: with the record missing or
// unreadable, a start knows of no incumbent, and every claimant of a
// contest is refused, as without Config.ServingFile.
func TestHost_incumbentAtRestart_noRecord(t *testing.T) {
	for _, tt := range []struct {
		name  string
		spoil func(t *testing.T, record string)
	}{
		{"Missing", func(t *testing.T, record string) {
			if err := os.Remove(record); err != nil {
				t.Fatal(err)
			}
		}},
		{"Malformed", func(t *testing.T, record string) { plantFile(t, record, []byte("{\"serving\": [")) }},
		{"Directory", func(t *testing.T, record string) {
			if err := os.Remove(record); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(record, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := placePlugins(t, map[string]string{"ver.wasm": "reload/ver_v1.wasm", "srv.wasm": "reload/srv.wasm"})
			record := filepath.Join(t.TempDir(), "serving.json")
			newTestHost(t, dir, servingFileAt(record))
			plantFile(t, filepath.Join(dir, "ver", "ver.wasm"), fixture(t, "reload/ver_v2.wasm"))
			tt.spoil(t, record)
			h := newTestHost(t, dir, servingFileAt(record))
			if got := serving(h); !slices.Equal(got, []string{"srv"}) {
				t.Fatalf("serving %v, want srv only: both claimants of ver refused", got)
			}
			if got := failedPaths(h); !slices.Equal(got, []string{"001/ver.wasm", "ver/ver.wasm"}) {
				t.Fatalf("failed %v, want both claimants of ver", got)
			}
		})
	}
}

// TestHost_incumbentFailing: an incumbent whose file fails to load at a
// start (its author replaced it with a broken build while the server was
// down) keeps its name while its file is there: a planted file of the
// name, at its other place, is refused, at the start and at every hot
// reload after, rather than become the plugin with its database; one in
// another subfolder is refused by the layout rule. A deploy of the name
// replaces the incumbent's file, wherever it is (here at the second of
// the name's places, with a file at the first).
func TestHost_incumbentFailing(t *testing.T) {
	ctx := context.Background()
	dir := placePlugins(t, map[string]string{"ver/ver.wasm": "reload/ver_v1.wasm", "srv.wasm": "reload/srv.wasm"})
	record := servingFileAt(filepath.Join(t.TempDir(), "serving.json"))
	newTestHost(t, dir, record)
	own, planted := filepath.Join(dir, "ver", "ver.wasm"), filepath.Join(dir, "ver.wasm")
	v2 := fixture(t, "reload/ver_v2.wasm")
	plantFile(t, own, []byte("not a plugin"))
	plantFile(t, planted, v2)
	plantFile(t, filepath.Join(dir, "attacker", "ver.wasm"), v2)
	h := newTestHost(t, dir, record)
	for i := range 2 { // the start, then a hot reload
		if got := serving(h); !slices.Equal(got, []string{"srv"}) {
			t.Fatalf("load %d: serving %v, want srv only", i, got)
		}
		if got := failedPaths(h); !slices.Equal(got, []string{"001/ver.wasm", "attacker/ver.wasm", "ver/ver.wasm"}) {
			t.Fatalf("load %d: failed %v, want all three", i, got)
		}
		for _, le := range h.LoadErrors() {
			if le.Path == planted && !strings.Contains(le.Err.Error(), "keeps the name") {
				t.Fatalf("load %d: the planted %s: %v, want the incumbent's name kept", i, planted, le.Err)
			}
		}
		if _, err := h.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Deploy(ctx, "ver", fixture(t, "reload/ver_v1.wasm")); err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(h.Plugins(), atPath(own)); i < 0 || h.Plugins()[i].Name != "ver" {
		t.Fatalf("after the deploy: plugins %v, want ver from %s", serving(h), own)
	}
	if b, err := os.ReadFile(planted); err != nil || !bytes.Equal(b, v2) {
		t.Fatalf("the deploy wrote the planted %s, not its incumbent: %v", planted, err)
	}
}

// TestHost_incumbentsRecord: the record names the serving plugin files
// relative to the plugin folder, with the SHA-256 of each one's module,
// and a link planted under its name is
// replaced, its target untouched.
func TestHost_incumbentsRecord(t *testing.T) {
	dir := placePlugins(t, map[string]string{"ver/ver.wasm": "reload/ver_v1.wasm", "srv.wasm": "reload/srv.wasm"})
	data := t.TempDir()
	record, victim := filepath.Join(data, "serving.json"), filepath.Join(data, "victim")
	plantFile(t, victim, []byte("keep"))
	if err := os.Symlink(victim, record); err != nil {
		t.Fatal(err)
	}
	newTestHost(t, dir, servingFileAt(record))
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep" {
		t.Fatalf("the link's target was written: %q, %v", b, err)
	}
	fi, err := os.Lstat(record)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("record: %v, %v; want a regular file", fi, err)
	}
	b, err := os.ReadFile(record)
	want := `{"serving":["srv.wasm","ver/ver.wasm"],"modules":{"srv.wasm":"` + fullHash(fixture(t, "reload/srv.wasm")) +
		`","ver/ver.wasm":"` + fullHash(fixture(t, "reload/ver_v1.wasm")) + `"}}` + "\n"
	if err != nil || string(b) != want {
		t.Fatalf("record = %q, %v; want %q", b, err, want)
	}
}
