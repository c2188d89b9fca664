package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newCmd runs `warden new args...` through doMain, as the binary would.
func newCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = doMain(context.Background(), append([]string{"new"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestNew_Errors(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"NoName", []string{"--lang", "go"}, "want NAME"},
		{"TooMany", []string{"--lang", "go", "a", "b", "c"}, "want NAME"},
		{"NoLang", []string{"greeter", t.TempDir() + "/x"}, `--lang ""`},
		{"BadLang", []string{"--lang", "cobol", "greeter"}, `--lang "cobol"`},
		{"BadName", []string{"--lang", "go", "../evil", t.TempDir() + "/x"}, "plugin name"},
		{"DotName", []string{"--lang", "go", ".hidden", t.TempDir() + "/x"}, "plugin name"},
		{"NotEmpty", []string{"--lang", "go", "greeter", full}, "not empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := newCmd(t, tt.args...)
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, tt.want)
			}
		})
	}
	entries, _ := os.ReadDir(full)
	if b, _ := os.ReadFile(filepath.Join(full, "keep.txt")); len(entries) != 1 || string(b) != "mine" {
		t.Errorf("a refused new changed %s: %d entries, keep.txt %q", full, len(entries), b)
	}
}

func TestDispatch(t *testing.T) {
	var out, errOut strings.Builder
	if code := doMain(context.Background(), []string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "warden "+version+" ") {
		t.Errorf("version: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := doMain(context.Background(), []string{"frobnicate"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %q", code, errOut.String())
	}
	// serve is the default: the same flags reach the same parser.
	for _, args := range [][]string{{"-max-body", "0"}, {"serve", "-max-body", "0"}} {
		errOut.Reset()
		if code := doMain(context.Background(), args, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "max-body 0") {
			t.Errorf("%v: exit %d, %q; want the server's config error", args, code, errOut.String())
		}
	}
}

func TestNew_Layout(t *testing.T) {
	for _, lang := range []string{"rust", "assemblyscript", "go", "c"} {
		t.Run(lang, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "p")
			if code, _, stderr := newCmd(t, "--lang", lang, "My-plugin.1", dir); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, f := range []string{"README.md", "build.sh", "My-plugin.1.toml"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Error(err)
				}
			}
			readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
			for _, want := range []string{"/_warden/plugins/My-plugin.1", "my-plugin.1_hello", "/hello/My-plugin.1"} {
				if !strings.Contains(string(readme), want) {
					t.Errorf("README lacks %q", want)
				}
			}
			if info, err := os.Stat(filepath.Join(dir, "build.sh")); err != nil || info.Mode()&0o100 == 0 {
				t.Errorf("build.sh not executable: %v", err)
			}
			manifest, _ := os.ReadFile(filepath.Join(dir, "My-plugin.1.toml"))
			if !strings.Contains(string(manifest), "[http]\n") || !strings.Contains(string(manifest), "\nallow = []\n") {
				t.Errorf("manifest grants something or lacks [http]:\n%s", manifest)
			}
		})
	}
}
