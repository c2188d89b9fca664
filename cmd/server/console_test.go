package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// consoleClient signs in to the console of s with password and returns a
// client with the session cookie, and the CSRF token.
func consoleClient(t *testing.T, s *server, password string) (*http.Client, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := &http.Client{Jar: jar}
	status, body := consoleDo(t, cl, s, "POST", "signin", `{"user":"admin","password":"`+password+`"}`, "")
	var me struct{ CSRF string }
	if status != 200 || json.Unmarshal([]byte(body), &me) != nil || me.CSRF == "" {
		t.Fatalf("console sign-in: %d %s", status, body)
	}
	return cl, me.CSRF
}

// consoleDo sends a same-origin console API request.
func consoleDo(t *testing.T, cl *http.Client, s *server, method, path, body, csrf string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+"/_warden/console/api/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", s.URL)
	if csrf != "" {
		req.Header.Set("X-Warden-CSRF", csrf)
	}
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// TestServer_consolePassword checks where the console password comes
// from: generated into keys.json and never logged, or configured and never
// written; and that -console=false serves no console.
func TestServer_consolePassword(t *testing.T) {
	t.Run("generated", func(t *testing.T) {
		args := dataArgs(t, "../../plugins")
		s := startServer(t, args...)
		b, err := os.ReadFile(filepath.Join(args[1], keysFile))
		if err != nil {
			t.Fatal(err)
		}
		var k keys
		if err := json.Unmarshal(b, &k); err != nil || len(k.ConsolePassword) < 40 {
			t.Fatalf("keys.json has no generated console_password: %s", b)
		}
		consoleClient(t, s, k.ConsolePassword)
		logs := s.logs.String()
		if strings.Contains(logs, k.ConsolePassword) {
			t.Fatal("the console password is in the logs")
		}
		if !strings.Contains(logs, "console_password in "+filepath.Join(args[1], keysFile)) {
			t.Fatalf("the logs do not say where the console password is:\n%s", logs)
		}
	})
	t.Run("configured", func(t *testing.T) {
		args := append(dataArgs(t, "../../plugins"), "-console-password", "configured-console-password")
		s := startServer(t, args...)
		consoleClient(t, s, "configured-console-password")
		if b, err := os.ReadFile(filepath.Join(args[1], keysFile)); err != nil || strings.Contains(string(b), "console_password") {
			t.Fatalf("keys.json holds a configured console password (%v):\n%s", err, b)
		}
		if strings.Contains(s.logs.String(), "configured-console-password") {
			t.Fatal("the console password is in the logs")
		}
	})
	t.Run("off", func(t *testing.T) {
		args := append(dataArgs(t, "../../plugins"), "-console=false")
		s := startServer(t, args...)
		if res := do(t, "GET", s.URL+"/_warden/console/", "", nil); res.Status != 404 {
			t.Fatalf("console with -console=false: %d", res.Status)
		}
		if b, _ := os.ReadFile(filepath.Join(args[1], keysFile)); strings.Contains(string(b), "console_password") {
			t.Fatalf("keys.json has a console password with the console off:\n%s", b)
		}
	})
}

// TestServer_consoleExplorer calls RPCs from the console's explorer API
// as the server and as a user: through the HTTP API's own path, so the
// host's server-only guard refuses the user, and the plugin sees the
// user's ID and username.
func TestServer_consoleExplorer(t *testing.T) {
	s := startServer(t, append(accountArgs(t), "-console-password", "pw-explorer")...)
	tok, _ := login(t, s, "custom-explorer-01", "dave")
	me := do(t, "GET", s.URL+"/v2/account", "", map[string]string{"Authorization": "Bearer " + tok})
	var acct struct {
		User struct{ ID string } `json:"user"`
	}
	if err := json.Unmarshal([]byte(me.Body), &acct); err != nil || acct.User.ID == "" {
		t.Fatalf("account: %d %s", me.Status, me.Body)
	}
	cl, csrf := consoleClient(t, s, "pw-explorer")
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"server", `{"rpc":"server_rpc_flagged","payload":"{}","unwrap":true}`, 200, ""},
		{"userGuarded", `{"rpc":"server_rpc_flagged","payload":"{}","unwrap":true,"user_id":"` + acct.User.ID + `"}`, 403, "only callable via server to server"},
		{"userWhoami", `{"rpc":"whoami","payload":"","user_id":"` + acct.User.ID + `","vars":{"tier":"gold"}}`, 200, `\"user_id\":\"` + acct.User.ID + `\",\"username\":\"dave\"`},
		{"unknown", `{"rpc":"nope","payload":""}`, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := consoleDo(t, cl, s, "POST", "call", tt.body, csrf)
			var ans struct {
				Status int
				Body   string
				Plugin string
			}
			if status != 200 || json.Unmarshal([]byte(body), &ans) != nil {
				t.Fatalf("call: %d %s", status, body)
			}
			if ans.Status != tt.status || !strings.Contains(ans.Body, tt.want) {
				t.Fatalf("answer %d %q, want %d holding %q", ans.Status, ans.Body, tt.status, tt.want)
			}
		})
	}
	if status, body := consoleDo(t, cl, s, "POST", "call", `{"rpc":"echo","user_id":"not-a-uuid"}`, csrf); status != 400 {
		t.Fatalf("call as a user that is not a UUID: %d %s, want 400", status, body)
	}
}

// openTail opens the console's log tail with the query filter, signed in
// through cl; the caller closes the body.
func openTail(t *testing.T, cl *http.Client, s *server, filter string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", s.URL+"/_warden/console/api/logs?"+filter, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestServer_consoleTailShutdown checks that an open log tail does not
// hold up a graceful shutdown: the tail ends when the server stops, and
// run returns without error (stop fails the test otherwise).
func TestServer_consoleTailShutdown(t *testing.T) {
	s := startServer(t, append(dataArgs(t, "../../plugins"), "-console-password", "pw-tail")...)
	cl, _ := consoleClient(t, s, "pw-tail")
	res := openTail(t, cl, s, "level=debug")
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("tail: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	buf := make([]byte, 4096)
	got := ""
	for !strings.Contains(got, "listening") { // the backlog holds the start-up lines
		n, err := res.Body.Read(buf)
		if err != nil {
			t.Fatalf("tail read: %v (got %q)", err, got)
		}
		got += string(buf[:n])
	}
	s.stop(t)
}

// TestServer_consoleExplorerVars checks that a call as a user carries the
// user ID and the session vars the explorer was given into the plugin's
// context (the conformance plugin's ctx RPC prints them).
func TestServer_consoleExplorerVars(t *testing.T) {
	dir := fixtureDir(t, "../../conformance/rust/conformance.wasm")
	s := startServer(t, append(dataArgs(t, dir), "-console-password", "pw-vars")...)
	cl, csrf := consoleClient(t, s, "pw-vars")
	const uid = "5a1e8b7e-0c2d-4f3a-9b8c-7d6e5f4a3b2c"
	status, body := consoleDo(t, cl, s, "POST", "call",
		`{"rpc":"ctx","payload":"","unwrap":true,"user_id":"`+strings.ToUpper(uid)+`","vars":{"tier":"gold"}}`, csrf)
	var ans struct {
		Status int
		Body   string
	}
	if status != 200 || json.Unmarshal([]byte(body), &ans) != nil || ans.Status != 200 {
		t.Fatalf("call: %d %s", status, body)
	}
	for _, want := range []string{"user_id=" + uid + "\n", "var.tier=gold\n", "vars.count=1\n", "client_ip=<present>\n"} {
		if !strings.Contains(ans.Body, want) {
			t.Fatalf("ctx as a user lacks %q:\n%s", want, ans.Body)
		}
	}
}
