package httpapi

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/warden-rpc/warden/accounts"
	"github.com/warden-rpc/warden/storage"
)

const testServerKey = "defaultkey"

var testRefreshKey = []byte("defaultrefreshencryptionkey")

// startAccounts starts a server with a real accounts service on SQLite in a
// temporary directory, adjusting cfg as startServer does. It returns the
// server and its caller: cfg.Caller, or an echo caller that records RPC
// requests.
func startAccounts(t *testing.T, cfg Config) (*Server, *fakeCaller) {
	t.Helper()
	s, caller, _ := startAccountsWith(t, cfg, accounts.Config{BcryptCost: bcrypt.MinCost})
	return s, caller
}

// startAccountsWith is startAccounts with the accounts service configured
// by acfg, whose DB, keys and logger it sets, and returns the service too.
func startAccountsWith(t *testing.T, cfg Config, acfg accounts.Config) (*Server, *fakeCaller, *accounts.Service) {
	t.Helper()
	db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "warden.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	acfg.DB, acfg.EncryptionKey, acfg.RefreshKey = db, testEncKey, testRefreshKey
	acfg.Logger = zerolog.New(zerolog.NewTestWriter(t))
	svc, err := accounts.New(context.Background(), acfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Caller == nil {
		cfg.Caller = echo()
	}
	caller, _ := cfg.Caller.(*fakeCaller)
	cfg.Accounts, cfg.Sessions, cfg.ServerKey = svc, svc, testServerKey
	return startServer(t, cfg), caller, svc
}

// serverKey returns the Basic Authorization header of the test server key.
func serverKey() http.Header { return http.Header{"Authorization": {basic(testServerKey + ":")}} }

// apiSessionOf parses a session response, failing the test unless it is a
// 200 with both tokens.
func apiSessionOf(t *testing.T, res response) apiSession {
	t.Helper()
	var s apiSession
	if res.status != http.StatusOK || json.Unmarshal([]byte(res.body), &s) != nil || s.Token == "" || s.RefreshToken == "" {
		t.Fatalf("want a session, got %d %s", res.status, res.body)
	}
	return s
}

// wantResponse checks a response's status and body, which must match the
// regular expression body (anchored), and its WWW-Authenticate header.
func wantResponse(t *testing.T, res response, status int, body, wwwAuth string) {
	t.Helper()
	if res.status != status || !regexp.MustCompile("^(?:"+body+")$").MatchString(res.body) {
		t.Fatalf("got %d %s, want %d matching %s", res.status, res.body, status, body)
	}
	if got := res.header.Get("WWW-Authenticate"); got != wwwAuth {
		t.Fatalf("WWW-Authenticate = %q, want %q", got, wwwAuth)
	}
	if ct := res.header.Get("Content-Type"); ct != contentTypeJSON {
		t.Fatalf("Content-Type = %q", ct)
	}
}

// gw returns the regular expression of a gateway error body.
func gw(code int, msg string) string {
	b, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, msg})
	return regexp.QuoteMeta(string(b))
}

// doFrom is do for a client at the loopback address from (127.0.0.0/8 is
// all loopback on Linux), so that tests can play several client addresses.
func doFrom(t *testing.T, s *Server, from, method, path string, header http.Header, body string) response {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DialContext: dialer.DialContext}}
	defer client.CloseIdleConnections()
	return send(t, client, method, s.URL()+path, header, body)
}
