package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/session"
)

const (
	testServerKey  = "test-server-key-0123456789"
	testRefreshKey = "test-refresh-key-0123456789"
)

// accountArgs returns dataArgs plus the server and refresh keys and a
// one-hour session lifetime.
func accountArgs(t *testing.T) []string {
	return append(dataArgs(t, "../../plugins"), "-server-key", testServerKey,
		"-refresh-encryption-key", testRefreshKey, "-session-expiry", "1h")
}

// login authenticates a custom ID and returns the session tokens.
func login(t *testing.T, s *server, id, username string) (tok, refresh string) {
	t.Helper()
	res := do(t, "POST", s.URL+"/v2/account/authenticate/custom?username="+username+"&", `{"id":"`+id+`"}`,
		map[string]string{"Authorization": "Basic " + basic(testServerKey)})
	var out struct {
		Token        string `json:"token"`
		RefreshToken string `json:"refresh_token"`
	}
	if res.Status != 200 || json.Unmarshal([]byte(res.Body), &out) != nil || out.Token == "" {
		t.Fatalf("authenticate: %d %s", res.Status, res.Body)
	}
	return out.Token, out.RefreshToken
}

// TestServer_accounts drives real users through the binary's wiring: the
// flags, the keys, the accounts tables, session checks on /v2/rpc, and a
// logout that survives a restart.
func TestServer_accounts(t *testing.T) {
	args := accountArgs(t)
	s := startServer(t, args...)
	tok, refresh := login(t, s, "custom-e2e-alice", "alice")
	c, err := session.Verify([]byte(testEncKey), tok, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if c.ExpiresAt-c.IssuedAt != 3600 {
		t.Fatalf("session lifetime %d s, want the -session-expiry of 3600", c.ExpiresAt-c.IssuedAt)
	}
	if _, err := session.Verify([]byte(testRefreshKey), refresh, time.Now()); err != nil {
		t.Fatalf("refresh token not signed with -refresh-encryption-key: %v", err)
	}
	user := map[string]string{"Authorization": "Bearer " + tok}
	tests := []struct {
		name, path string
		status     int
		body       string
	}{
		{"Whoami", "/v2/rpc/whoami", 200, `{"payload":"{\"user_id\":\"` + c.UserID + `\",\"username\":\"alice\"}"}`},
		{"ServerOnlyRefused", "/v2/rpc/server_rpc_flagged", 403, ""},
		{"Echo", "/v2/rpc/echo", 200, `{"payload":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, "POST", s.URL+tt.path, "", user)
			if res.Status != tt.status || (tt.body != "" && res.Body != tt.body) {
				t.Fatalf("got %d %s, want %d %s", res.Status, res.Body, tt.status, tt.body)
			}
		})
	}
	res := do(t, "POST", s.URL+"/v2/session/logout", `{"token":"`+tok+`","refresh_token":"`+refresh+`"}`, user)
	if res.Status != 200 || res.Body != "{}" {
		t.Fatalf("logout: %d %s", res.Status, res.Body)
	}
	wantRefused := func(s *server) {
		t.Helper()
		res := do(t, "POST", s.URL+"/v2/rpc/whoami", "", user)
		if res.Status != 401 || !strings.Contains(res.Body, "Auth token invalid") {
			t.Fatalf("logged-out token: %d %s, want 401", res.Status, res.Body)
		}
	}
	wantRefused(s)
	s.stop(t)

	s = startServer(t, args...)
	wantRefused(s)
	tok2, _ := login(t, s, "custom-e2e-alice", "alice")
	if res := do(t, "GET", s.URL+"/v2/account", "", map[string]string{"Authorization": "Bearer " + tok2}); res.Status != 200 ||
		!strings.Contains(res.Body, `"custom_id":"custom-e2e-alice"`) {
		t.Fatalf("account after restart: %d %s", res.Status, res.Body)
	}
}

func TestParseConfig_accounts(t *testing.T) {
	env := map[string]string{"WARDEN_SESSION_EXPIRY": "30m", "WARDEN_REFRESH_ENCRYPTION_KEY": "from-env"}
	getenv := func(k string) string { return env[k] }
	c, err := parseConfig([]string{"-refresh-expiry", "48h"}, getenv, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if c.SessionExpiry != 30*time.Minute || c.RefreshExpiry != 48*time.Hour || c.RefreshKey != "from-env" {
		t.Fatalf("got %+v", c)
	}
	c, err = parseConfig(nil, func(string) string { return "" }, &strings.Builder{})
	if err != nil || c.SessionExpiry != 7200*time.Second || c.RefreshExpiry != 7*24*time.Hour {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	for _, args := range [][]string{{"-session-expiry", "0s"}, {"-refresh-expiry", "-1h"}, {"-session-expiry", "soon"}} {
		if _, err := parseConfig(args, getenv, &strings.Builder{}); err == nil {
			t.Errorf("parseConfig(%v) succeeded, want an error", args)
		}
	}
}
