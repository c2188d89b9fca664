package console

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/accounts"
	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/httpapi"
	"github.com/warden-rpc/warden/storage"
)

const testPassword = "correct horse battery staple"

// fixture is a console served by the real HTTP API over a real host (an
// empty plugin folder), with a real SQLite database for the audit log and
// a real listener.
type fixture struct {
	srv       *httptest.Server
	db        *storage.DB
	pluginDir string
	ring      *LogRing
}

func newFixture(t *testing.T, tlsOn bool) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := storage.Open(ctx, filepath.Join(dir, "warden.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	dbs, err := storage.OpenDir(filepath.Join(dir, "db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dbs.Close() })
	log := zerolog.New(zerolog.NewTestWriter(t))
	pluginDir := t.TempDir()
	h, err := host.New(ctx, host.Config{PluginDir: pluginDir, Databases: dbs, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	audit, err := NewSQLAudit(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ring := NewLogRing(10)
	c, err := New(Config{
		User: "ops", Password: testPassword, Node: "n1", Version: "test",
		HTTPKey: "http-key", EncryptionKey: []byte("enc-key"), Audit: audit,
		Limiter: accounts.NewLimiter(accounts.LimiterConfig{Burst: fixtureSignInBurst, Every: time.Hour}),
		Logs:    ring, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.NewServer(httpapi.Config{Caller: h, HTTPKey: "http-key", EncryptionKey: []byte("enc-key"),
		Admin: h, Console: c, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	c.SetAPI(api.Handler())
	f := &fixture{db: db, pluginDir: pluginDir, ring: ring}
	if tlsOn {
		f.srv = httptest.NewTLSServer(api.Handler())
	} else {
		f.srv = httptest.NewServer(api.Handler())
	}
	t.Cleanup(f.srv.Close)
	return f
}

// client returns an HTTP client with a cookie jar, trusting f's TLS
// certificate.
func (f *fixture) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: f.srv.Client().Transport, Jar: jar}
}

// send sends a request with the given Origin and CSRF token (none when
// empty) and returns the status and body.
func (f *fixture) send(t *testing.T, cl *http.Client, method, path, body, origin, csrf string) (int, string, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+Path+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if csrf != "" {
		req.Header.Set(csrfHeader, csrf)
	}
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res
}

// signIn signs in and returns the CSRF token.
func (f *fixture) signIn(t *testing.T, cl *http.Client) string {
	t.Helper()
	status, body, _ := f.send(t, cl, "POST", "api/signin", `{"user":"ops","password":"`+testPassword+`"}`, f.srv.URL, "")
	if status != 200 {
		t.Fatalf("sign-in: %d %s", status, body)
	}
	var me meJSON
	if err := json.Unmarshal([]byte(body), &me); err != nil || me.CSRF == "" || me.User != "ops" {
		t.Fatalf("sign-in answer %s: %v", body, err)
	}
	return me.CSRF
}

// auditRows returns the audit table's rows as "actor action target outcome".
func (f *fixture) auditRows(t *testing.T) []string {
	t.Helper()
	rows, err := f.db.Reader().Query("SELECT actor, client_addr, action, target, outcome FROM warden_console_audit ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var actor, addr, action, target, outcome string
		if err := rows.Scan(&actor, &addr, &action, &target, &outcome); err != nil {
			t.Fatal(err)
		}
		if addr != "127.0.0.1" {
			t.Errorf("audit client_addr %q, want 127.0.0.1", addr)
		}
		out = append(out, strings.Join(strings.Fields(actor+" "+action+" "+target+" "+outcome), " "))
	}
	return out
}

func TestConsole_signIn(t *testing.T) {
	f := newFixture(t, false)
	cl := f.client(t)
	tests := []struct {
		name, body, origin string
		status             int
	}{
		{"ErrWrongPassword", `{"user":"ops","password":"nope"}`, f.srv.URL, 401},
		{"ErrWrongUser", `{"user":"root","password":"` + testPassword + `"}`, f.srv.URL, 401},
		{"ErrNoOrigin", `{"user":"ops","password":"` + testPassword + `"}`, "", 403},
		{"ErrOtherOrigin", `{"user":"ops","password":"` + testPassword + `"}`, "http://evil.example", 403},
		// A refused sign-in is audited with its user name cut, so that
		// guesses with long names do not fill the audit table.
		{"ErrLongUser", `{"user":"` + strings.Repeat("é", 2000) + `","password":"nope"}`, f.srv.URL, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, res := f.send(t, cl, "POST", "api/signin", tt.body, tt.origin, "")
			if status != tt.status || len(res.Cookies()) != 0 {
				t.Fatalf("status %d (%s), cookies %v; want %d and no cookie", status, body, res.Cookies(), tt.status)
			}
			if s, _, _ := f.send(t, cl, "GET", "api/me", "", "", ""); s != 401 {
				t.Fatalf("me after a refused sign-in: %d, want 401", s)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		status, body, res := f.send(t, cl, "POST", "api/signin", `{"user":"ops","password":"`+testPassword+`"}`, f.srv.URL, "")
		if status != 200 {
			t.Fatalf("sign-in: %d %s", status, body)
		}
		ck := res.Cookies()
		if len(ck) != 1 || ck[0].Name != cookieName || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode ||
			ck[0].Secure || ck[0].Path != Path || ck[0].Value == "" {
			t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP, Path %s", ck, Path)
		}
		if strings.Contains(body, ck[0].Value) {
			t.Fatal("the answer's body holds the session token")
		}
		if s, b, _ := f.send(t, cl, "GET", "api/me", "", "", ""); s != 200 || !strings.Contains(b, `"user":"ops"`) {
			t.Fatalf("me: %d %s", s, b)
		}
	})
	want := []string{"ops sign-in refused: wrong user name or password", "root sign-in refused: wrong user name or password",
		strings.Repeat("é", maxAuditActorBytes/2) + "… sign-in refused: wrong user name or password", "ops sign-in ok"}
	if got := f.auditRows(t); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestConsole_secureCookieOverTLS(t *testing.T) {
	f := newFixture(t, true)
	cl := f.client(t)
	_, _, res := f.send(t, cl, "POST", "api/signin", `{"user":"ops","password":"`+testPassword+`"}`, f.srv.URL, "")
	ck := res.Cookies()
	if res.StatusCode != 200 || len(ck) != 1 || !ck[0].Secure || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("over TLS: status %d, cookie %+v; want Secure, HttpOnly, SameSite=Strict", res.StatusCode, ck)
	}
}

// fixtureSignInBurst is the failed sign-ins in a row the fixture's limiter
// allows: as many as TestConsole_signIn makes, and then its right one.
const fixtureSignInBurst = 4

func TestConsole_signInRateLimit(t *testing.T) {
	f := newFixture(t, false)
	cl := f.client(t)
	for i := range fixtureSignInBurst {
		if s, b, _ := f.send(t, cl, "POST", "api/signin", `{"user":"ops","password":"wrong"}`, f.srv.URL, ""); s != 401 {
			t.Fatalf("attempt %d: %d %s, want 401", i, s, b)
		}
	}
	s, b, res := f.send(t, cl, "POST", "api/signin", `{"user":"ops","password":"`+testPassword+`"}`, f.srv.URL, "")
	if s != 429 || len(res.Cookies()) != 0 {
		t.Fatalf("right password after the burst: %d %s, cookies %v; want 429 and no session", s, b, res.Cookies())
	}
}

func TestConsole_csrf(t *testing.T) {
	f := newFixture(t, false)
	cl := f.client(t)
	tok := f.signIn(t, cl)
	tests := []struct {
		name, origin, csrf string
		status             int
	}{
		{"ErrNoToken", f.srv.URL, "", 403},
		{"ErrWrongToken", f.srv.URL, tok[:len(tok)-1] + "x", 403},
		{"ErrNoOrigin", "", tok, 403},
		{"ErrOtherOrigin", "http://evil.example", tok, 403},
		{"OK", f.srv.URL, tok, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, b, _ := f.send(t, cl, "POST", "api/plugins/reload", "{}", tt.origin, tt.csrf); s != tt.status {
				t.Fatalf("reload: %d %s, want %d", s, b, tt.status)
			}
		})
	}
	t.Run("ErrNoSession", func(t *testing.T) {
		if s, _, _ := f.send(t, &http.Client{Transport: f.srv.Client().Transport}, "POST", "api/plugins/reload", "{}", f.srv.URL, tok); s != 401 {
			t.Fatalf("reload without the cookie: %d, want 401", s)
		}
	})
	got := f.auditRows(t)
	want := []string{"ops sign-in ok", "ops plugins.reload ok: loaded [], removed []"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit rows:\n%s\nwant (refused changes leave no row):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	t.Run("signOut", func(t *testing.T) {
		if s, b, _ := f.send(t, cl, "POST", "api/signout", "{}", f.srv.URL, tok); s != 200 {
			t.Fatalf("sign-out: %d %s", s, b)
		}
		if s, _, _ := f.send(t, cl, "GET", "api/me", "", "", ""); s != 401 {
			t.Fatalf("me after sign-out: %d, want 401", s)
		}
	})
}

func TestLogRing(t *testing.T) {
	r := NewLogRing(3)
	_, _ = r.Write([]byte(`{"level":"info","status":200,"message":"request"}` + "\n" + `{"level":"error","message":"x"}` + "\n"))
	_, _ = r.Write([]byte(`{"level":"info","status":503,"message":"request"}` + "\n" + `{"level":"info","status":404,"message":"request"}` + "\n"))
	lines, next := r.since(0)
	if next != 4 || len(lines) != 3 || !strings.Contains(string(lines[0]), `"error"`) {
		t.Fatalf("since(0) = %q, %d; want the last 3 of 4 lines", lines, next)
	}
	st := r.Stats()
	if st.LastMinute.Requests != 3 || st.LastMinute.Status5xx != 1 || st.LastMinute.Status4xx != 1 || st.LastMinute.ErrorLogs != 1 {
		t.Fatalf("stats %+v", st)
	}
	f := logFilter{level: levels["warn"]}
	if f.match([]byte(`{"level":"info"}`)) || !f.match([]byte(`{"level":"error"}`)) {
		t.Fatal("level filter")
	}
	f = logFilter{level: -1, plugin: "echo", rpc: "echo"}
	if !f.match([]byte(`{"plugin":"echo@abc","path":"/v2/rpc/echo"}`)) || !f.match([]byte(`{"plugin":"echo","rpc_id":"echo"}`)) ||
		f.match([]byte(`{"plugin":"echoes","rpc_id":"echo"}`)) || f.match([]byte(`{"plugin":"echo","rpc_id":"whoami"}`)) {
		t.Fatal("plugin and rpc filter")
	}
}

// TestConsole_plugins deploys, lists and removes a plugin through the
// console, which goes through the HTTP API's admin endpoint, and checks
// the audit log's outcomes.
func TestConsole_plugins(t *testing.T) {
	f := newFixture(t, false)
	cl := f.client(t)
	tok := f.signIn(t, cl)
	wasm := echoWasm(t)
	steps := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"deploy", "PUT", "api/plugins/mine", string(wasm), 200, `"loaded":["mine"]`},
		{"list", "GET", "api/plugins", "", 200, `"name":"mine"`},
		{"badName", "PUT", "api/plugins/..x", string(wasm), 400, `invalid plugin name`},
		{"remove", "DELETE", "api/plugins/mine", "", 200, `"removed":["mine"]`},
		{"removeUnknown", "DELETE", "api/plugins/mine", "", 404, `plugin not found`},
	}
	for _, st := range steps {
		status, body, _ := f.send(t, cl, st.method, st.path, st.body, f.srv.URL, tok)
		if status != st.status || !strings.Contains(body, st.want) {
			t.Fatalf("%s: %d %s, want %d with %s", st.name, status, body, st.status, st.want)
		}
	}
	got := strings.Join(f.auditRows(t), "\n")
	for _, want := range []string{"ops plugins.deploy mine ok: loaded [mine], removed []",
		"ops plugins.deploy ..x refused (HTTP 400): invalid plugin name",
		"ops plugins.remove mine ok: loaded [], removed [mine]",
		"ops plugins.remove mine refused (HTTP 404): plugin not found"} {
		if !strings.Contains(got, want) {
			t.Fatalf("audit rows lack %q:\n%s", want, got)
		}
	}
	res, err := (&http.Client{Transport: f.srv.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}).Get(f.srv.URL + "/_warden/console")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != Path {
		t.Fatalf("GET /_warden/console: %d to %q, want 302 to %s", res.StatusCode, res.Header.Get("Location"), Path)
	}
}

// echoWasm returns the bundled echo plugin.
func echoWasm(t *testing.T) []byte {
	t.Helper()
	wasm, err := os.ReadFile("../plugins/echo/echo.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

// TestLogRing_Share checks a plugin's share of the ring: a burst keeps a
// quarter of the ring, then a warning, and none of the rest; other lines
// are kept all along; the share refills with time, and the first line kept
// again comes after the count of those left out.
func TestLogRing_Share(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r := NewLogRing(40)
	r.now = func() time.Time { return now }
	flood := r.Share("flood")
	for i := range 100 {
		_, _ = fmt.Fprintf(flood, `{"level":"info","plugin":"flood","n":%d}`+"\n", i)
		if i%10 == 0 {
			_, _ = fmt.Fprintf(r, `{"level":"info","component":"host","n":%d}`+"\n", i)
		}
	}
	lines, _ := r.since(0)
	count := func(sub string) int {
		n := 0
		for _, l := range lines {
			if strings.Contains(string(l), sub) {
				n++
			}
		}
		return n
	}
	if got := count(`"plugin":"flood","n"`); got != 10 {
		t.Fatalf("%d flood lines kept, want 10 (a quarter of 40): %q", got, lines)
	}
	if got := count(`"component":"host"`); got != 10 {
		t.Fatalf("%d host lines kept, want all 10: %q", got, lines)
	}
	if got := count(`"level":"warn","component":"console","plugin":"flood"`); got != 1 {
		t.Fatalf("%d warnings, want 1: %q", got, lines)
	}
	_, _ = fmt.Fprintln(flood, `{"level":"error","plugin":"flood"}`)
	if st := r.Stats(); st.LastMinute.ErrorLogs != 1 {
		t.Fatalf("an error line left out of the ring was not counted: %+v", st)
	}

	now = now.Add(2 * time.Second) // a fifth of the refill: 2 lines
	for i := range 5 {
		_, _ = fmt.Fprintf(flood, `{"level":"info","plugin":"flood","m":%d}`+"\n", i)
	}
	lines, _ = r.since(0)
	if got := count(`"m":`); got != 2 {
		t.Fatalf("%d lines kept after 2 s, want 2: %q", got, lines)
	}
	if got := count(`"lines":91,`); got != 1 {
		t.Fatalf("no count of the 91 lines left out: %q", lines)
	}
	if again := r.Share("flood"); again.(shareWriter).sh != flood.(shareWriter).sh {
		t.Fatal("a second Share of the same plugin has its own allowance")
	}
}

// TestConsole_sessionInAnyCookie checks that a console cookie someone else
// set on a deeper path, which a browser sends first, does not hide the
// operator's session, and that signing out ends the session, not the
// decoy: the console looks in every console cookie of the request.
func TestConsole_sessionInAnyCookie(t *testing.T) {
	f := newFixture(t, false)
	cl := f.client(t)
	csrf := f.signIn(t, cl)
	u, err := url.Parse(f.srv.URL + Path)
	if err != nil {
		t.Fatal(err)
	}
	var real string
	for _, ck := range cl.Jar.Cookies(u) {
		if ck.Name == cookieName {
			real = ck.Value
		}
	}
	if real == "" {
		t.Fatal("no console cookie after sign-in")
	}
	do := func(method, path, csrf string) int {
		req, err := http.NewRequest(method, f.srv.URL+Path+path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Cookie", cookieName+"=decoy-set-on-a-deeper-path; "+cookieName+"="+real)
		req.Header.Set("Origin", f.srv.URL)
		req.Header.Set(csrfHeader, csrf)
		res, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := do("GET", "api/me", ""); got != 200 {
		t.Fatalf("GET api/me with a decoy cookie first: %d, want 200", got)
	}
	if got := do("POST", "api/signout", csrf); got != 200 {
		t.Fatalf("sign-out with a decoy cookie first: %d, want 200", got)
	}
	if got := do("GET", "api/me", ""); got != 401 {
		t.Fatalf("GET api/me after sign-out: %d, want 401", got)
	}
	if !strings.HasPrefix(cookieName, abi.ReservedCookiePrefix) {
		t.Fatalf("the console's cookie %q is not under abi.ReservedCookiePrefix, which plugin routes may not set", cookieName)
	}
	if !strings.HasPrefix(Path, abi.ReservedPathPrefix) {
		t.Fatalf("the console's path %q is not under abi.ReservedPathPrefix", Path)
	}
}

// TestConsole_logTailEndsWithItsSession checks that a live log tail stops
// when the session that opened it ends: a line logged after sign-out is
// not sent, and the stream closes. It used to be checked only when the
// tail opened, so whoever held the cookie kept reading the logs.
func TestConsole_logTailEndsWithItsSession(t *testing.T) {
	f := newFixture(t, false)
	cl := f.client(t)
	csrf := f.signIn(t, cl)
	req, err := http.NewRequest("GET", f.srv.URL+Path+"api/logs", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	for { // the backlog, up to the ": tail" marker
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, ": tail") {
			break
		}
	}
	if st, body, _ := f.send(t, cl, "POST", "api/signout", "", f.srv.URL, csrf); st != 200 {
		t.Fatalf("sign-out: %d %s", st, body)
	}
	_, _ = f.ring.Write([]byte(`{"level":"info","message":"written after sign-out"}` + "\n"))
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return // the stream ended
		}
		if strings.Contains(line, "written after sign-out") {
			t.Fatalf("a tail whose session ended still receives log lines: %q", line)
		}
	}
}

// TestConsole_explorerAuditNamesThePayload checks that an explorer call's
// audit row says what was sent, as an upload's says what was deployed:
// the payload's size and the start of its SHA-256, and whether it was
// unwrapped, besides the RPC and the caller. "rpc.call delete_account"
// alone would not say whose account.
func TestConsole_explorerAuditNamesThePayload(t *testing.T) {
	f := newFixture(t, false)
	cl := f.client(t)
	csrf := f.signIn(t, cl)
	const payload = `{"user_id":"victim-0001"}`
	body, _ := json.Marshal(map[string]any{"rpc": "delete_account", "payload": payload, "unwrap": true})
	if st, b, _ := f.send(t, cl, "POST", "api/call", string(body), f.srv.URL, csrf); st != 200 {
		t.Fatalf("call: %d %s", st, b)
	}
	var detail string
	if err := f.db.Reader().QueryRow("SELECT detail FROM warden_console_audit WHERE action = 'rpc.call'").Scan(&detail); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(payload))
	want := fmt.Sprintf("as the server (HTTP key); payload %d bytes, sha256 %s, unwrapped", len(payload), hex.EncodeToString(sum[:])[:12])
	if detail != want {
		t.Fatalf("audit detail %q, want %q", detail, want)
	}
}
