package httpapi

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/netdeadline"
	"github.com/warden-rpc/warden/session"
)

const (
	testHTTPKey = "defaulthttpkey"
	testUserID  = "2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b"
)

var testEncKey = []byte("defaultencryptionkey")

// fakeCaller records the requests it receives and answers with fn when set,
// or with res and err.
type fakeCaller struct {
	res host.Result
	err error
	fn  func(ctx context.Context, req *host.Request) (host.Result, error)

	mu   sync.Mutex
	reqs []*host.Request
}

func (f *fakeCaller) Call(ctx context.Context, req *host.Request) (host.Result, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if f.fn != nil {
		return f.fn(ctx, req)
	}
	return f.res, f.err
}

// requests returns the requests received so far.
func (f *fakeCaller) requests() []*host.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*host.Request(nil), f.reqs...)
}

// only returns the one request received, failing the test otherwise.
func (f *fakeCaller) only(t *testing.T) *host.Request {
	t.Helper()
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("caller got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// echo returns a caller that echoes the payload as plugin echo@1.0.0.
func echo() *fakeCaller {
	return &fakeCaller{fn: func(_ context.Context, req *host.Request) (host.Result, error) {
		return host.Result{Output: req.Payload, Plugin: "echo", Version: "1.0.0"}, nil
	}}
}

// startServer starts a server on a loopback port with cfg, whose zero
// Caller and keys are filled in and whose logger writes to t, and stops it at
// cleanup.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
	return serve(t, cfg)
}

// serve is startServer keeping cfg.Logger; it checks at cleanup that Serve
// returned nil.
func serve(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Caller == nil {
		cfg.Caller = echo()
	}
	if cfg.HTTPKey == "" {
		cfg.HTTPKey = testHTTPKey
	}
	if cfg.EncryptionKey == nil {
		cfg.EncryptionKey = testEncKey
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		// Shutdown first, so that a handler still running (one whose
		// client went away, say) ends, and logs, within the test: a log
		// line through t after the test has ended panics. Close then stops
		// what a handler stuck past the bound leaves.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

// response is what a test request got back.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request to s and returns the response. Redirects are not
// followed.
func do(t *testing.T, s *Server, method, path string, header http.Header, body string) response {
	t.Helper()
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return send(t, client, method, s.URL()+path, header, body)
}

// send sends a request with client and returns the response.
func send(t *testing.T, client *http.Client, method, url string, header http.Header, body string) response {
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
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// validClaims returns the claims of a session valid for an hour.
func validClaims() session.Claims {
	now := time.Now().Unix()
	return session.Claims{
		TokenID:   session.NewTokenID(),
		UserID:    testUserID,
		Username:  "alice",
		Vars:      map[string]string{"tier": "gold"},
		ExpiresAt: now + 3600,
		IssuedAt:  now,
	}
}

// token signs c with key.
func token(t testing.TB, key []byte, c session.Claims) string {
	t.Helper()
	tok, err := session.Sign(key, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// bearer returns an Authorization header with a valid session token.
func bearer(t testing.TB) http.Header {
	return http.Header{"Authorization": {"Bearer " + token(t, testEncKey, validClaims())}}
}

// checkSessions is a SessionChecker that refuses one token ID and records
// the claims it sees.
type checkSessions struct {
	revoked string

	mu   sync.Mutex
	seen []session.Claims
}

func (c *checkSessions) SessionValid(_ context.Context, cl session.Claims) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, cl)
	if cl.TokenID == c.revoked {
		return errors.New("revoked")
	}
	return nil
}

// basic returns a Basic Authorization value for userPass.
func basic(userPass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userPass))
}

// auth returns an Authorization header carrying tok as a Bearer token.
func auth(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// b64 returns s in base64url without padding, as in JWTs.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// rawEcho is an echo RPC with the HTTP key and the body "hi", as a client
// writes it on the wire.
const rawEcho = "POST /v2/rpc/echo?unwrap&http_key=" + testHTTPKey + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"

// dialServer opens a raw TCP connection to s, closed at cleanup.
func dialServer(t *testing.T, s *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readEcho reads the answer to rawEcho from br and checks it is 200 "hi";
// what names the request in a failure.
func readEcho(t *testing.T, br *bufio.Reader, what string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "hi" {
		t.Fatalf("%s: %d %q", what, resp.StatusCode, body)
	}
}

// checkCutOff reads r until the server closes the connection (net/http
// sends nothing or a bare 4xx first) and checks that it did so no sooner
// than timeout after start, and before the client's own read deadline,
// which the caller set on the connection. A coarse timeout (netdeadline)
// counts from the listener's clock, which is read once per tick and so may
// run behind by a tick or two on a busy machine: it may fire that much
// early.
func checkCutOff(t *testing.T, r io.Reader, start time.Time, timeout time.Duration, what string) {
	t.Helper()
	_, err := io.ReadAll(r)
	cut := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s was never cut off (waited %s)", what, cut)
	}
	early := time.Duration(0)
	if timeout >= netdeadline.MinCoarse {
		early = 2 * netdeadline.Resolution
	}
	if cut < timeout-early {
		t.Fatalf("%s cut off after %s, before the %s timeout", what, cut, timeout)
	}
}
