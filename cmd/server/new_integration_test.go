//go:build integration

package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

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
//
// It runs with -tags integration (CI's own step in .ci/run), apart from
// go test ./...: four toolchain builds take minutes.
func TestNew_BuildTestDeploy(t *testing.T) {
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
