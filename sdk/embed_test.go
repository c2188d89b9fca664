package sdk

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite go.txtar from sdk/go")

// goSDKFiles reads what go.txtar must hold: sdk/go's go.mod, README and
// every Go or assembly source but the tests.
func goSDKFiles(t *testing.T) ([]string, map[string][]byte) {
	t.Helper()
	files := map[string][]byte{}
	var names []string
	err := filepath.WalkDir("go", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		base := filepath.Base(p)
		keep := base == "go.mod" || base == "README.md" ||
			(strings.HasSuffix(base, ".go") && !strings.HasSuffix(base, "_test.go")) || strings.HasSuffix(base, ".s")
		if !keep {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(strings.TrimPrefix(p, "go"+string(filepath.Separator)))
		names = append(names, name)
		files[name] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names, files
}

// TestGoArchive fails when go.txtar differs from sdk/go: CI's drift check.
func TestGoArchive(t *testing.T) {
	names, files := goSDKFiles(t)
	want := formatArchive(names, files)
	if *update {
		if err := os.WriteFile("go.txtar", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("go.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("sdk/go.txtar differs from sdk/go: run go test ./sdk -run TestGoArchive -update and commit it")
	}
	parsed, err := Files("go")
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed) != len(files) {
		t.Errorf("archive holds %d files, want %d", len(parsed), len(files))
	}
	for n, b := range files {
		if !bytes.Equal(parsed[n], b) {
			t.Errorf("%s: archive content differs", n)
		}
	}
}

func TestFiles(t *testing.T) {
	for _, tt := range []struct{ lang, must string }{
		{"rust", "src/lib.rs"}, {"rust", "src/testing.rs"}, {"rust", "Cargo.toml"},
		{"c", "warden.h"},
		{"assemblyscript", "assembly/index.ts"}, {"assemblyscript", "testing/fakehost.mjs"},
		{"go", "fakehost.go"}, {"go", "internal/sys/trap_wasm.s"}, {"go", "cmd/tablemax/main.go"},
	} {
		t.Run(tt.lang+"/"+tt.must, func(t *testing.T) {
			files, err := Files(tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			if len(files[tt.must]) == 0 {
				t.Errorf("%s SDK lacks %s", tt.lang, tt.must)
			}
			for n := range files {
				if strings.Contains(n, "node_modules") || strings.HasSuffix(n, "_test.go") {
					t.Errorf("%s SDK holds %s", tt.lang, n)
				}
			}
		})
	}
	if _, err := Files("cobol"); err == nil {
		t.Error("Files(cobol) did not fail")
	}
}
