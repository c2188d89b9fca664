package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// binary is the server, built once by TestMain; cacheDir is the
// compilation cache every node shares, so that only the first compiles.
var binary, cacheDir string

func TestMain(m *testing.M) {
	if os.Getenv(pgtest.EnvURL) == "" && os.Getenv("CI") == "" {
		os.Exit(m.Run()) // every test skips (pgtest.URL)
	}
	dir, err := os.MkdirTemp("", "warden-cluster-")
	if err != nil {
		panic(err)
	}
	binary, cacheDir = filepath.Join(dir, "warden"), filepath.Join(dir, "cache")
	out, err := exec.Command("go", "build", "-o", binary, "github.com/warden-rpc/warden/cmd/server").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build the server: %v\n%s", err, out)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// sourcesOnce runs openSources in the first test: go test records the
// files a test opens only once the tests run, not in TestMain before.
var sourcesOnce sync.Once

// openSources opens every Go source, go.mod, go.sum and plugin under root,
// so that go test's cache, which records the files a test reads, knows
// that the result depends on the server's sources (the build reads them
// in another process) and runs the tests again when one changes.
func openSources(root string) error {
	return filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "target"):
			return filepath.SkipDir
		case d.IsDir():
			return nil
		}
		if n := d.Name(); strings.HasSuffix(n, ".go") || strings.HasSuffix(n, ".wasm") || n == "go.mod" || n == "go.sum" {
			f, err := os.Open(path) // an open, not a stat: go test records the file's time and size
			if err != nil {
				return err
			}
			return f.Close()
		}
		return nil
	})
}

// startWait bounds a node's start: generous, for a cold, busy machine.
const startWait = 5 * time.Minute

// cluster is the configuration the nodes of one test share.
type cluster struct {
	database string
	keys     map[string]string // flag -> value
	extra    []string          // more flags for every node
}

// newCluster returns a cluster on a fresh database with random keys.
func newCluster(t *testing.T, database string, extra ...string) *cluster {
	t.Helper()
	sourcesOnce.Do(func() {
		if err := openSources("../.."); err != nil {
			t.Fatal(err)
		}
	})
	c := &cluster{database: database, keys: map[string]string{}, extra: extra}
	for _, k := range []string{"http-key", "server-key", "encryption-key", "refresh-encryption-key", "console-password"} {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		c.keys[k] = hex.EncodeToString(b)
	}
	return c
}

// node is one running Warden process.
type node struct {
	name string
	url  string
	data string // its data directory
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{} // closed once the process exited
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start starts n nodes, the first alone (it compiles the plugins into the
// shared cache), then the others at once, and stops them all at the end
// of the test.
func (c *cluster) start(t *testing.T, n int) []*node {
	t.Helper()
	nodes := []*node{c.startNode(t, "node0")}
	rest := make([]*node, n-1)
	var wg sync.WaitGroup
	for i := range rest {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rest[i] = c.launch(t, fmt.Sprintf("node%d", i+1))
		}()
	}
	wg.Wait()
	for _, nd := range rest {
		c.waitListening(t, nd)
	}
	return append(nodes, rest...)
}

// startNode starts one node and waits until it listens.
func (c *cluster) startNode(t *testing.T, name string) *node {
	t.Helper()
	nd := c.launch(t, name)
	c.waitListening(t, nd)
	return nd
}

// launch starts a node's process with its own data directory (linked to
// the shared cache) and the repository's plugins.
func (c *cluster) launch(t *testing.T, name string) *node {
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		panic(err)
	}
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		panic(err)
	}
	if err := os.Symlink(cacheDir, filepath.Join(data, "cache")); err != nil {
		panic(err)
	}
	args := []string{"-addr", "127.0.0.1:0", "-database", c.database, "-data", data, "-plugins", "../../plugins",
		"-node", name, "-watch", "0", "-access-log=false", "-log-level", "info"}
	for k, v := range c.keys {
		args = append(args, "-"+k, v)
	}
	args = append(args, c.extra...)
	nd := &node{name: name, data: data, logs: &syncBuffer{}, done: make(chan struct{})}
	nd.cmd = exec.Command(binary, args...)
	nd.cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no WARDEN_* from the test's environment
	nd.cmd.Stdout, nd.cmd.Stderr = nd.logs, nd.logs
	if err := nd.cmd.Start(); err != nil {
		t.Errorf("start %s: %v", name, err)
		close(nd.done)
		return nd
	}
	go func() { _ = nd.cmd.Wait(); close(nd.done) }()
	t.Cleanup(func() { nd.stop(t) })
	return nd
}

// waitListening waits for the node's "listening" log line and takes its
// URL from it.
func (c *cluster) waitListening(t *testing.T, nd *node) {
	t.Helper()
	deadline := time.Now().Add(startWait)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(nd.logs.String(), "\n") {
			var l struct{ Message, URL string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Message == "listening" && l.URL != "" {
				nd.url = l.URL
				return
			}
		}
		select {
		case <-nd.done:
			t.Fatalf("%s exited before listening:\n%s", nd.name, nd.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not listen within %s:\n%s", nd.name, startWait, nd.logs.String())
}

// stop ends the node gracefully (SIGTERM), or kills it after a while; on
// a failed test, its logs are shown.
func (nd *node) stop(t *testing.T) {
	if nd.cmd.Process != nil {
		_ = nd.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-nd.done:
	case <-time.After(30 * time.Second):
		_ = nd.cmd.Process.Kill()
		<-nd.done
	}
	if t.Failed() {
		t.Logf("logs of %s:\n%s", nd.name, tail(nd.logs.String(), 6000))
	}
}

// kill ends the node at once with SIGKILL.
func (nd *node) kill(t *testing.T) {
	t.Helper()
	if err := nd.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", nd.name, err)
	}
	<-nd.done
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// client returns an HTTP client whose connections come from the loopback
// address 127.0.0.<host>, so that each is its own client for the nodes'
// per-address limits on failed attempts and sign-ups.
func client(host byte) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, host)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		DialContext: d.DialContext, MaxIdleConnsPerHost: 64,
	}}
}

// answer is an HTTP answer: its status and body, and the code and message
// of an error body.
type answer struct {
	status  int
	body    string
	code    int
	message string
	elapsed time.Duration
	err     error // a transport error; status is 0
}

// do sends a request and reads the answer.
func do(ctx context.Context, hc *http.Client, method, url, auth, body string) answer {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return answer{err: err, elapsed: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, body: string(b), err: err, elapsed: time.Since(start)}
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if resp.StatusCode != http.StatusOK && json.Unmarshal(b, &e) == nil {
		a.code, a.message = e.Code, e.Message
	}
	return a
}

// rpc calls an RPC with the HTTP key and ?unwrap: payload and result are
// raw JSON.
func (c *cluster) rpc(ctx context.Context, hc *http.Client, nd *node, id, payload string) answer {
	return do(ctx, hc, http.MethodPost, nd.url+"/v2/rpc/"+id+"?unwrap&http_key="+c.keys["http-key"], "", payload)
}

// userRPC calls an RPC in a user's session.
func userRPC(ctx context.Context, hc *http.Client, nd *node, token, id, payload string) answer {
	return do(ctx, hc, http.MethodPost, nd.url+"/v2/rpc/"+id+"?unwrap", "Bearer "+token, payload)
}

// authenticate signs in (or up) with a device ID on nd.
func (c *cluster) authenticate(ctx context.Context, hc *http.Client, nd *node, device, username string) answer {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.keys["server-key"]+":"))
	return do(ctx, hc, http.MethodPost, nd.url+"/v2/account/authenticate/device?create=true&username="+username, basic,
		`{"id":"`+device+`"}`)
}

// token returns the session token of a successful authentication.
func token(t *testing.T, a answer) string {
	t.Helper()
	var s struct{ Token string }
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &s) != nil || s.Token == "" {
		t.Fatalf("authenticate = %d %q (%v), want 200 with a token", a.status, a.body, a.err)
	}
	return s.Token
}
