package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/session"
)

// Test keys, passed as flags so tests can sign tokens.
const (
	testHTTPKey = "test-http-key-0123456789"
	testEncKey  = "test-encryption-key-0123456789"
)

// testCacheDir is a compilation cache shared by the tests of this package,
// as in host's tests: each data directory that newDataDir makes links its
// cache to it, so each plugin is compiled once per run instead of once per
// test (the Go plugins take seconds under -race on a cold machine).
var testCacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "warden-server-cache-")
	if err != nil {
		panic(err)
	}
	testCacheDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// newDataDir returns a fresh data directory whose compilation cache is the
// package's shared one. wazero writes cache entries through a temporary
// file and a rename, so servers may share it.
func newDataDir(t *testing.T) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(testCacheDir, filepath.Join(data, "cache")); err != nil {
		t.Fatal(err)
	}
	return data
}

// startBound is how long a test waits for a server to start: until shortly
// before the test binary's deadline (go test -timeout), or ten minutes
// without one. A slow start on a busy, cold machine is not a failure; a
// start that hangs still fails here, with the server's logs, before go test
// kills the binary.
func startBound(t *testing.T) time.Duration {
	t.Helper()
	dl, ok := t.Deadline()
	if !ok {
		return 10 * time.Minute
	}
	left := time.Until(dl)
	return left - min(left/10, 30*time.Second)
}

// server is a Warden started in-process through run(), on a real listener
// on 127.0.0.1 with a real SQLite file.
type server struct {
	URL    string
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuilder
}

// syncBuilder is a strings.Builder safe for one writer and many readers.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) WriteString(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(v)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs the server with args (plus an ephemeral address) and
// waits for its "listening" log line.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{cancel: cancel, done: make(chan error, 1), logs: &syncBuilder{}}
	args = append([]string{"-addr", "127.0.0.1:0", "-log-level", "debug"}, args...)
	go func() {
		err := run(ctx, args, func(string) string { return "" }, pw, io.Discard)
		_ = pw.CloseWithError(io.EOF)
		s.done <- err
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			var entry struct{ Message, URL string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Message == "listening" {
				urls <- entry.URL
			}
		}
	}()
	select {
	case s.URL = <-urls:
	case err := <-s.done:
		t.Fatalf("server exited before listening: %v", err)
	case <-time.After(startBound(t)):
		t.Fatalf("server did not start before the test's deadline; logs:\n%s", s.logs.String())
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop shuts the server down and waits for run to return.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	if err := <-s.done; err != nil {
		t.Errorf("run: %v", err)
	}
}

// dataArgs returns flags for a fresh data directory and the given plugins
// directory, with the test keys.
func dataArgs(t *testing.T, pluginDir string) []string {
	t.Helper()
	return []string{"-data", newDataDir(t), "-plugins", pluginDir,
		"-http-key", testHTTPKey, "-encryption-key", testEncKey}
}

// fixtureDir copies .wasm files into a fresh plugins directory.
func fixtureDir(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// token signs a session token for a test user.
func token(t *testing.T, uid, username string, exp time.Time) string {
	t.Helper()
	tok, err := session.Sign([]byte(testEncKey), session.Claims{
		TokenID: session.NewTokenID(), UserID: uid, Username: username,
		Vars: map[string]string{"tier": "gold"}, ExpiresAt: exp.Unix(), IssuedAt: time.Now().Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// response is what do returns: status, content type and body.
type response struct {
	Status      int
	ContentType string
	Body        string
	Header      http.Header
}

// do sends one request and reads the whole response.
func do(t *testing.T, method, url, body string, header map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header.Get("Content-Type"), string(b), res.Header}
}

// newTestLogger returns a logger that writes to the test's log.
func newTestLogger(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t))
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
