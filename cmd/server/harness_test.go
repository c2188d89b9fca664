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
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start in 30s")
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
	return []string{"-data", filepath.Join(t.TempDir(), "data"), "-plugins", pluginDir,
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
