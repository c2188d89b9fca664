package host

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// TestHost_New_removesDeployLeftovers: a start removes what a deploy that
// stopped part way (the server killed between its steps) left in the
// plugin folder, exactly the files of the shapes folderwrite.go creates at
// a plugin's places, and nothing else: a staged file (.NAME.wasm.R.tmp,
// .NAME.toml.R.tmp), and a file moved aside (.NAME.wasm.R.old,
// .NAME.toml.R.old) once NAME.wasm is back beside it. A manifest's sit at
// the top of the folder (manifestPath), and go once the module is back at
// either place of its name (srv/srv.wasm for .srv.toml.R.old); those of a
// manifest in a subfolder, from before manifests moved to the top, go
// too. A file moved aside with no module of its name is the old module's
// only copy, or its manifest, and is kept.
// Links, FIFOs and folders of those names, files of other shapes, in
// other subfolders, deeper, or through a linked subfolder, are left as
// they are.
func TestHost_New_removesDeployLeftovers(t *testing.T) {
	dir := placePlugins(t, map[string]string{"ver.wasm": "reload/ver_v1.wasm", "srv/srv.wasm": "reload/srv.wasm"})
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	plantFile(t, victim, []byte("keep"))
	plantFile(t, filepath.Join(outside, ".lnk.wasm.a.tmp"), []byte("keep"))
	removed := []string{
		".ver.wasm.0.tmp", ".ver.wasm.3w5e11264sgsf.tmp", ".ver.toml.z9.tmp", ".ver.wasm.1x.old", ".ver.toml.2y.old",
		"srv/.srv.wasm.k.tmp", "srv/.srv.wasm.q.old", ".srv.toml.r.tmp", ".srv.toml.r.old",
		"srv/.srv.toml.q.tmp", "srv/.srv.toml.q.old", // a manifest's, in the subfolder it once was
		".new.wasm.5.tmp", ".a.b.wasm.6.tmp", // a plugin still to come; a name with a dot
	}
	kept := []string{
		".gone.wasm.3.old", ".gone.toml.4.old", // the old module's only copy, and its manifest
		".ver.wasm.ABC.tmp", ".ver.wasm.abc123", ".ver.wasm.tmp", "ver.wasm.abc.tmp", ".ver.txt.abc.tmp",
		".ver.wasm.aaaaaaaaaaaaaa.tmp", ".ver.wasm..tmp", ".-x.wasm.a.tmp", ".ver.wasm.a.tmp.old", ".ver.wasm.a.bak",
		"x/.ver.wasm.a.tmp", "x/.x.wasm.a.old", "srv/.ver.wasm.a.tmp", "srv/srv/.srv.wasm.a.tmp",
	}
	for _, p := range slices.Concat(removed, kept) {
		plantFile(t, filepath.Join(dir, p), []byte("leftover"))
	}
	// Manifests back in place, so that those moved aside go: without one
	// a manifest moved aside is kept and its plugin refused
	// (TestHost_New_keepsAsideManifestWithNoneInPlace).
	for _, p := range []string{"ver.toml", "srv.toml"} {
		plantFile(t, filepath.Join(dir, p), []byte("[env]\nallow = []\n"))
	}
	// And files that folderwrite.go's own functions made, as a deploy does.
	for _, path := range []string{filepath.Join(dir, "ver.wasm"), filepath.Join(dir, "srv", "srv.wasm"), manifestPath(dir, filepath.Join(dir, "srv", "srv.wasm"))} {
		staged, err := stage(path, []byte("leftover"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := createFresh(filepath.Dir(path), freshPrefix(path), asideSuffix)
		if err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
		for _, p := range []string{staged, f.Name()} {
			rel, _ := filepath.Rel(dir, p)
			removed = append(removed, rel)
		}
	}
	specials := map[string]func(path string) error{
		".ver.wasm.link1.tmp": func(path string) error { return os.Symlink(victim, path) },
		".ver.wasm.link2.old": func(path string) error { return os.Symlink(victim, path) },
		".ver.wasm.fifo.tmp":  func(path string) error { return syscall.Mkfifo(path, 0o644) },
		".ver.wasm.dir.tmp":   func(path string) error { return os.Mkdir(path, 0o755) },
		"lnk":                 func(path string) error { return os.Symlink(outside, path) },
	}
	for name, mk := range specials {
		if err := mk(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, name)
	}
	h := newTestHost(t, dir, nil)
	if got := serving(h); !slices.Equal(got, []string{"srv", "ver"}) {
		t.Fatalf("serving %v, want srv and ver", got)
	}
	for _, p := range removed {
		if _, err := os.Lstat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want it removed", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v, want it kept", p, err)
		}
	}
	for _, p := range []string{victim, filepath.Join(outside, ".lnk.wasm.a.tmp")} {
		if b, err := os.ReadFile(p); err != nil || string(b) != "keep" {
			t.Errorf("%s outside the plugin folder: %q, %v; want it untouched", p, b, err)
		}
	}
}
