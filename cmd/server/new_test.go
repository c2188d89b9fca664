package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
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

// toolchain is how CI builds and tests one language's generated project.
type toolchain struct {
	lang  string
	needs []string // executables or directories that must exist
	env   []string
	test  [][]string // the README's test commands, run in the project
}

var toolchains = []toolchain{
	{"rust", []string{"/usr/bin/cargo", "/usr/bin/rustc", "/usr/lib/rustlib/wasm32-unknown-unknown"},
		[]string{"CARGO=/usr/bin/cargo", "RUSTC=/usr/bin/rustc"}, [][]string{{"/usr/bin/cargo", "test", "--offline", "--quiet"}}},
	{"assemblyscript", []string{"node", "npm"}, nil, [][]string{{"npm", "test"}}},
	{"go", []string{"go"}, nil, [][]string{{"go", "test", "./..."}}},
	{"c", []string{"clang", "node", "/usr/lib/wasm32-wasi"}, nil, [][]string{{"node", "--test", "test/"}}},
}

// missing returns the first of needs that is not on this machine.
func (tc toolchain) missing() string {
	for _, n := range tc.needs {
		if strings.HasPrefix(n, "/") {
			if _, err := os.Stat(n); err != nil {
				return n
			}
		} else if _, err := exec.LookPath(n); err != nil {
			return n
		}
	}
	return ""
}

// TestNew_BuildTestDeploy writes a project in each language, builds it
// with its build.sh, runs its unit tests with the language's runner,
// deploys it to a running server with PUT /_warden/plugins/NAME and calls
// its RPC and its route. A missing toolchain skips its language, except
// under CI, where it fails.
func TestNew_BuildTestDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four projects with their toolchains")
	}
	s := startServer(t, dataArgs(t, t.TempDir())...)
	auth := map[string]string{"Authorization": "Basic " + base64Std(testHTTPKey+":")}
	for _, tc := range toolchains {
		t.Run(tc.lang, func(t *testing.T) {
			if m := tc.missing(); m != "" {
				if os.Getenv("CI") != "" {
					t.Fatalf("%s is missing, and CI is set", m)
				}
				t.Skipf("%s is missing", m)
			}
			name := "hello-" + tc.lang
			dir := filepath.Join(t.TempDir(), name)
			if code, _, stderr := newCmd(t, "--lang", tc.lang, name, dir); code != 0 {
				t.Fatalf("new: exit %d: %s", code, stderr)
			}
			runIn(t, dir, tc.env, "./build.sh")
			for _, cmd := range tc.test {
				runIn(t, dir, tc.env, cmd...)
			}
			wasm, err := os.ReadFile(filepath.Join(dir, name+".wasm"))
			if err != nil {
				t.Fatal(err)
			}
			res := do(t, http.MethodPut, s.URL+"/_warden/plugins/"+name, string(wasm), auth)
			if res.Status != 200 || !strings.Contains(res.Body, `"loaded":["`+name+`"]`) {
				t.Fatalf("deploy: %d %s", res.Status, res.Body)
			}
			res = do(t, http.MethodPost, s.URL+"/v2/rpc/"+name+"_hello?unwrap", "ann", auth)
			if res.Status != 200 || res.Body != "hello, ann!" {
				t.Errorf("rpc: %d %q; want 200 hello, ann!", res.Status, res.Body)
			}
			res = do(t, http.MethodPost, s.URL+"/v2/rpc/"+name+"_hello?unwrap", " ", auth)
			if res.Status != 400 || !strings.Contains(res.Body, "say who to greet") {
				t.Errorf("rpc, blank: %d %q; want 400 say who to greet", res.Status, res.Body)
			}
			res = do(t, http.MethodPost, s.URL+"/hello/"+name, "bo", nil)
			if res.Status != 200 || res.Body != "hello, bo!" {
				t.Errorf("route: %d %q; want 200 hello, bo!", res.Status, res.Body)
			}
		})
	}
}

// runIn runs a command in dir with extra environment, failing the test
// with its output when it fails.
func runIn(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("%s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
}
