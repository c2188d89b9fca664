package conformance

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/httpapi"
	"github.com/warden-rpc/warden/session"
	"github.com/warden-rpc/warden/storage"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt from the rust plugin's transcript")

// languages are the SDK languages, in subtest order. The first is the
// reference that -update writes the golden file from.
var languages = []string{"rust", "assemblyscript", "go", "c"}

const (
	goldenPath    = "testdata/golden.txt"
	pluginName    = "conformance"
	testHTTPKey   = "conformance-http-key"
	testEncKey    = "conformance-encryption-key"
	testNode      = "conformance-node"
	testUserID    = "00000000-0000-4000-8000-00000000c0f1"
	testUsername  = "conformance-user"
	testSessionID = "00000000-0000-4000-8000-0000000005e5"
	// testExpiry is 2100-01-01T00:00:00Z, fixed so that user_session_exp is.
	testExpiry = 4102444800
)

// header opens the transcript and the golden file.
const header = `# The conformance transcript (conformance/SPEC.md). Generated from the Rust
# plugin by: go test ./conformance -run TestConformance/rust -update
# "> " lines are a request, "< " its status, then its body (see renderBody).
`

// TestConformance runs the table of exchanges against each language's
// plugin and compares the transcript with the golden file. A language
// whose conformance.wasm is missing fails.
func TestConformance(t *testing.T) {
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			wasmPath := filepath.Join(lang, pluginName+".wasm")
			wasm, err := os.ReadFile(wasmPath)
			if err != nil {
				t.Fatalf("no %s plugin: %v (build it with conformance/%s/build.sh; see SPEC.md)", lang, err, lang)
			}
			got := transcript(t, wasm, openSQLite)
			if *update && lang == languages[0] {
				if err := os.WriteFile(goldenPath, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", goldenPath)
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(got, string(want)); d != "" {
				t.Errorf("transcript differs from %s (regenerate from rust with -update):\n%s", goldenPath, d)
			}
		})
	}
}

// transcript serves wasm as plugin "conformance" on a fresh server, sends
// the table of exchanges, and renders the exchanges, the plugin's log lines
// and the table conf_values.
func transcript(t *testing.T, wasm []byte, open openDatabases) string {
	t.Helper()
	f := start(t, wasm, open)
	var sb strings.Builder
	sb.WriteString(header)
	for _, x := range exchanges() {
		f.exchange(t, &sb, x)
	}
	logs, err := renderLogs(f.logs.Bytes(), pluginName)
	if err != nil {
		t.Fatal(err)
	}
	sb.WriteString("\n== plugin log\n")
	sb.WriteString(logs)
	sb.WriteString("\n== table conf_values\n")
	sb.WriteString(f.dumpValues(t))
	return sb.String()
}

// fixture is one language's server: the host, its database and the HTTP API.
type fixture struct {
	url   string
	db    storage.PluginDB // the plugin's database
	logs  *syncBuffer
	token string
}

// openDatabases opens a fresh, empty engine for one test; it closes when
// the test ends.
type openDatabases func(t *testing.T) storage.Databases

// openSQLite opens the SQLite engine in t.TempDir().
func openSQLite(t *testing.T) storage.Databases {
	t.Helper()
	dbs, err := storage.OpenDir(filepath.Join(t.TempDir(), "db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := dbs.Close(); err != nil {
			t.Error(err)
		}
	})
	return dbs
}

// start serves wasm on 127.0.0.1 with a fresh database from open. The
// server stops and everything closes when t ends.
func start(t *testing.T, wasm []byte, open openDatabases) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plugins, pluginName+".wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, plugins) // the http RPC's grant
	dbs := open(t)
	db, err := dbs.ForPlugin(ctx, pluginName)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := zerolog.New(zerolog.MultiLevelWriter(logs, zerolog.NewTestWriter(t))).Level(zerolog.DebugLevel)
	h, err := host.New(ctx, host.Config{
		PluginDir: plugins, Databases: dbs, Logger: log,
		Env: map[string]string{"MODE": "test", envHTTPBase: startOutbound(t)}, Node: testNode,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	srv, err := httpapi.NewServer(httpapi.Config{
		Addr: "127.0.0.1:0", Caller: h, HTTPKey: testHTTPKey,
		EncryptionKey: []byte(testEncKey), Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := errors.Join(srv.Shutdown(sctx), <-served); err != nil {
			t.Error(err)
		}
	})
	return &fixture{url: srv.URL(), db: db, logs: logs, token: userToken(t)}
}

// userToken signs the session of the test user, with fixed claims.
func userToken(t *testing.T) string {
	t.Helper()
	tok, err := session.Sign([]byte(testEncKey), session.Claims{
		TokenID: testSessionID, UserID: testUserID, Username: testUsername,
		Vars: map[string]string{"tier": "gold"}, ExpiresAt: testExpiry, IssuedAt: 1700000000,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var client = &http.Client{Timeout: 30 * time.Second}

// exchange sends x and renders the request, the status and the body to sb.
func (f *fixture) exchange(t *testing.T, sb *strings.Builder, x exchange) {
	t.Helper()
	path := x.path
	if x.caller == asServer {
		path = withHTTPKey(path)
	}
	req, err := http.NewRequest(x.method, f.url+path, bytes.NewReader(x.body))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(sb, "\n> %s %s\n", x.method, path)
	if x.caller == asUser {
		req.Header.Set("Authorization", "Bearer "+f.token)
		sb.WriteString("> Authorization: Bearer <session of " + testUsername + ">\n")
	}
	for _, h := range x.header {
		req.Header.Add(h[0], h[1])
		fmt.Fprintf(sb, "> %s: %s\n", h[0], h[1])
	}
	if len(x.body) > 0 {
		sb.WriteString("> " + renderBody(x.body) + "\n")
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", x.method, x.path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", x.method, x.path, err)
	}
	if x.panic {
		body = panicBody(body)
	}
	fmt.Fprintf(sb, "< %d\n%s\n", res.StatusCode, renderBody(body))
}

// dumpValues renders the rows of conf_values as the db RPC prints them.
func (f *fixture) dumpValues(t *testing.T) string {
	t.Helper()
	s := f.db.NewSession()
	defer s.Close()
	rows, err := s.Query(context.Background(), "SELECT id, i, f, t, b FROM conf_values ORDER BY id", nil)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "columns=%s\nrows=%d\n", strings.Join(rows.Columns, ","), len(rows.Values))
	for _, r := range rows.Values {
		fmt.Fprintf(&sb, "%v", r[0])
		for _, v := range r[1:] {
			sb.WriteString("|" + renderValue(v))
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Bytes returns a copy of what was written so far.
func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}
