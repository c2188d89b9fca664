package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
)

func TestNewServer(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s, err := NewServer(Config{Caller: echo(), HTTPKey: "k", EncryptionKey: []byte("e"), CallTimeout: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if s.cfg.Addr != DefaultAddr || s.cfg.MaxBodyBytes != DefaultMaxBodyBytes {
			t.Errorf("defaults not applied: %+v", s.cfg)
		}
		// The timeouts are the listener's, applied from connection states:
		// http.Server's own must be off, or both would apply.
		srv, to := s.srv, s.timeouts
		if srv.ReadHeaderTimeout != 0 || srv.ReadTimeout != 0 || srv.WriteTimeout != 0 || srv.IdleTimeout != 0 ||
			srv.MaxHeaderBytes != 32<<10 {
			t.Errorf("http.Server limits: %+v", srv)
		}
		if to.ReadHeader != 5*time.Second || to.Read < 10*time.Second || to.Write != 8*time.Second || to.Idle != 60*time.Second {
			t.Errorf("timeouts: %+v", to)
		}
		if s.URL() != "" {
			t.Errorf("URL before Listen = %q, want empty", s.URL())
		}
		s.cfg.Addr = "127.0.0.1:0"
		if err := s.Listen(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.Close() }()
		if srv.ConnState == nil {
			t.Error("Listen did not hand the connection states to the listener")
		}
	})
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "ErrNoCaller", cfg: Config{HTTPKey: "k", EncryptionKey: []byte("e")}},
		{name: "ErrNoHTTPKey", cfg: Config{Caller: echo(), EncryptionKey: []byte("e")}},
		{name: "ErrNoEncryptionKey", cfg: Config{Caller: echo(), HTTPKey: "k"}},
		{name: "ErrNegativeBody", cfg: Config{Caller: echo(), HTTPKey: "k", EncryptionKey: []byte("e"), MaxBodyBytes: -1}},
		{name: "ErrNegativeTimeout", cfg: Config{Caller: echo(), HTTPKey: "k", EncryptionKey: []byte("e"), CallTimeout: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewServer(tt.cfg); err == nil {
				t.Fatal("NewServer succeeded")
			}
		})
	}
}

func TestServer_Lifecycle(t *testing.T) {
	t.Run("URL of a wildcard address", func(t *testing.T) {
		s := startServer(t, Config{Addr: ":0"})
		if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
			t.Errorf("URL = %q, want http://127.0.0.1:PORT", s.URL())
		}
		if got := do(t, s, "GET", "/healthcheck", nil, ""); got.status != 200 {
			t.Errorf("healthcheck via URL: %d", got.status)
		}
	})
	t.Run("ErrServeWithoutListen", func(t *testing.T) {
		s, _ := NewServer(Config{Caller: echo(), HTTPKey: "k", EncryptionKey: []byte("e")})
		if err := s.Serve(); err == nil {
			t.Fatal("Serve without Listen succeeded")
		}
	})
	t.Run("ErrListenTwice", func(t *testing.T) {
		s := startServer(t, Config{})
		if err := s.Listen(); err == nil {
			t.Fatal("second Listen succeeded")
		}
	})
	t.Run("Close before Serve", func(t *testing.T) {
		s, _ := NewServer(Config{Caller: echo(), HTTPKey: "k", EncryptionKey: []byte("e"), Addr: "127.0.0.1:0"})
		if err := s.Listen(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Serve(); err != nil {
			t.Errorf("Serve after Close = %v, want nil", err)
		}
	})
}

func TestServer_Shutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	caller := &fakeCaller{fn: func(context.Context, *host.Request) (host.Result, error) {
		close(entered)
		<-release
		return host.Result{Output: []byte("done")}, nil
	}}
	s := startServer(t, Config{Caller: caller})
	got := make(chan string, 1)
	go func() { got <- get(s.URL() + "/v2/rpc/slow?http_key=" + testHTTPKey) }()
	<-entered

	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a call in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if r := <-got; r != `200 {"payload":"done"}` {
		t.Errorf("in-flight call got %s", r)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
}

func TestServer_ShutdownTimeout(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	caller := &fakeCaller{fn: func(context.Context, *host.Request) (host.Result, error) {
		close(entered)
		<-release
		return host.Result{}, nil
	}}
	s := startServer(t, Config{Caller: caller})
	got := make(chan string, 1)
	go func() { got <- get(s.URL() + "/v2/rpc/slow?http_key=" + testHTTPKey) }()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want context.DeadlineExceeded", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if r := <-got; !strings.HasPrefix(r, "error") {
		t.Errorf("call cut by Close got %s, want an error", r)
	}
}

// get sends a GET from any goroutine and returns "STATUS BODY" or "error: ...".
func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}

func TestServer_Routes(t *testing.T) {
	key := http.Header{"Authorization": {basic(testHTTPKey + ":")}}
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		body   string
		status int
		want   string
	}{
		{name: "root", method: "GET", path: "/", status: 200, want: ""},
		{name: "healthcheck", method: "GET", path: "/healthcheck", status: 200, want: "{}"},
		{name: "native echo POST", method: "POST", path: "/_bench/echo?unwrap", header: key, body: `{"a":1}`, status: 200, want: `{"a":1}`},
		{name: "native echo wrapped", method: "POST", path: "/_bench/echo", header: key, body: `"hi"`, status: 200, want: `{"payload":"hi"}`},
		{name: "native echo GET", method: "GET", path: "/_bench/echo?payload=hi", header: key, status: 200, want: `{"payload":"hi"}`},
		{name: "native echo needs auth", method: "POST", path: "/_bench/echo", body: `"hi"`, status: 401, want: wantNoAuth},
		{name: "native echo bad JSON", method: "POST", path: "/_bench/echo", header: key, body: `{}`, status: 400, want: wantBadJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caller := echo()
			s := startServer(t, Config{Caller: caller, NativeEcho: true})
			got := do(t, s, tt.method, tt.path, tt.header, tt.body)
			if got.status != tt.status || got.body != tt.want {
				t.Errorf("got %d %q, want %d %q", got.status, got.body, tt.status, tt.want)
			}
			checkCommonHeaders(t, got.header)
			if n := len(caller.requests()); n != 0 {
				t.Errorf("plugin caller called %d times", n)
			}
		})
	}
}

// TestServer_CORSOrigin checks that a response other than a preflight
// carries Access-Control-Allow-Origin: * when, and only when, the request
// has an Origin, as gorilla/handlers' CORS does for Nakama: a browser
// sends Origin on every cross-origin request, and a server or a native
// client, which sends none, gets no CORS header it has no use for.
func TestServer_CORSOrigin(t *testing.T) {
	s := startServer(t, Config{Caller: echo()})
	for _, tc := range []struct {
		method, path string
		header       http.Header
		body         string
		status       int
	}{
		{"GET", "/healthcheck", nil, "", 200},
		{"POST", "/v2/rpc/echo?unwrap&http_key=" + testHTTPKey, nil, `{"a":1}`, 200},
		{"POST", "/v2/rpc/echo", nil, `"hi"`, 401},
		{"GET", "/v2/rpc/echo?payload=x&http_key=" + testHTTPKey, nil, "", 200},
		{"GET", "/no/such/path", nil, "", 404},
	} {
		for _, origin := range []string{"", "https://game.example", "null"} {
			h := http.Header{}
			for k, v := range tc.header {
				h[k] = v
			}
			want := []string(nil)
			if origin != "" {
				h.Set("Origin", origin)
				want = []string{"*"}
			}
			got := do(t, s, tc.method, tc.path, h, tc.body)
			if got.status != tc.status {
				t.Errorf("%s %s, Origin %q: status %d, want %d", tc.method, tc.path, origin, got.status, tc.status)
			}
			if o := got.header["Access-Control-Allow-Origin"]; !slices.Equal(o, want) {
				t.Errorf("%s %s, Origin %q: Access-Control-Allow-Origin = %q, want %q", tc.method, tc.path, origin, o, want)
			}
			checkCommonHeaders(t, got.header)
		}
	}
}

// TestServer_CORSHostileOrigin attacks the CORS answer as a page on a
// hostile site would: its Origin is never echoed (the answer is always *,
// which browsers refuse to combine with credentials), credentials are
// never allowed, a preflight asking for a header outside Nakama's list is
// refused without a CORS header, and an empty first Origin hides a second
// one, as Header.Get reads it in gorilla/handlers.
func TestServer_CORSHostileOrigin(t *testing.T) {
	s := startServer(t, Config{Caller: echo()})
	for _, tc := range []struct {
		name, method string
		origin       []string
		acrm, acrh   string
		status       int
		want         []string // Access-Control-Allow-Origin
	}{
		{"hostile GET", "GET", []string{"https://evil.example"}, "", "", 200, []string{"*"}},
		{"hostile preflight", "OPTIONS", []string{"https://evil.example"}, "POST", "Authorization", 200, []string{"*"}},
		{"preflight, a header not allowed", "OPTIONS", []string{"https://evil.example"}, "POST", "X-Api-Key", 403, nil},
		{"preflight, PATCH", "OPTIONS", []string{"https://evil.example"}, "PATCH", "", 405, nil},
		{"empty first Origin", "GET", []string{"", "https://evil.example"}, "", "", 200, nil},
	} {
		h := http.Header{"Origin": tc.origin}
		if tc.acrm != "" {
			h.Set("Access-Control-Request-Method", tc.acrm)
		}
		if tc.acrh != "" {
			h.Set("Access-Control-Request-Headers", tc.acrh)
		}
		got := do(t, s, tc.method, "/healthcheck", h, "")
		if got.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, got.status, tc.status)
		}
		if o := got.header["Access-Control-Allow-Origin"]; !slices.Equal(o, tc.want) {
			t.Errorf("%s: Access-Control-Allow-Origin = %q, want %q", tc.name, o, tc.want)
		}
		if c, ok := got.header["Access-Control-Allow-Credentials"]; ok {
			t.Errorf("%s: Access-Control-Allow-Credentials = %q, want none", tc.name, c)
		}
	}
}

func TestServer_HeaderTooLarge(t *testing.T) {
	s := startServer(t, Config{})
	got := do(t, s, "GET", "/healthcheck", http.Header{"X-Big": {strings.Repeat("a", 64<<10)}}, "")
	if got.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status = %d, want 431", got.status)
	}
	// Within the limit, including a GET payload far above Nakama's ~9 KB.
	got = do(t, s, "GET", "/v2/rpc/echo?http_key="+testHTTPKey+"&payload="+strings.Repeat("p", 20<<10), nil, "")
	if got.status != 200 {
		t.Errorf("20 KiB query: status = %d, want 200", got.status)
	}
}

func TestServer_CORS(t *testing.T) {
	tests := []struct {
		name        string
		header      http.Header
		status      int
		wantHeaders string
		wantMethods string
		wantOrigin  []string // Access-Control-Allow-Origin: only on a preflight that passed
	}{
		{name: "plain OPTIONS", status: 200},
		{name: "no request method", header: http.Header{"Origin": {"https://game.example"}}, status: 400},
		{name: "POST with headers", header: http.Header{"Origin": {"https://game.example"}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"authorization, content-type,accept"}}, status: 200, wantHeaders: "Authorization,Content-Type", wantOrigin: []string{"*"}},
		{name: "PUT", header: http.Header{"Origin": {"https://game.example"}, "Access-Control-Request-Method": {"PUT"}}, status: 200, wantMethods: "PUT", wantOrigin: []string{"*"}},
		{name: "method not allowed", header: http.Header{"Origin": {"https://game.example"}, "Access-Control-Request-Method": {"PATCH"}}, status: 405},
		{name: "header not allowed", header: http.Header{"Origin": {"https://game.example"}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"X-Secret"}}, status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caller := echo()
			s := startServer(t, Config{Caller: caller})
			got := do(t, s, "OPTIONS", "/v2/rpc/echo", tt.header, "")
			if got.status != tt.status || got.body != "" {
				t.Errorf("got %d %q, want %d and no body", got.status, got.body, tt.status)
			}
			if h := got.header.Get("Access-Control-Allow-Headers"); h != tt.wantHeaders {
				t.Errorf("Access-Control-Allow-Headers = %q, want %q", h, tt.wantHeaders)
			}
			if m := got.header.Get("Access-Control-Allow-Methods"); m != tt.wantMethods {
				t.Errorf("Access-Control-Allow-Methods = %q, want %q", m, tt.wantMethods)
			}
			if o := got.header["Access-Control-Allow-Origin"]; !slices.Equal(o, tt.wantOrigin) {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", o, tt.wantOrigin)
			}
			checkCommonHeaders(t, got.header)
			if len(caller.requests()) != 0 {
				t.Error("OPTIONS reached the caller")
			}
		})
	}
}

func TestServer_Logging(t *testing.T) {
	var buf syncBuffer
	secret := "s3cr3t-http-key"
	s := serve(t, Config{
		HTTPKey:   secret,
		Logger:    zerolog.New(&buf).Level(zerolog.DebugLevel),
		AccessLog: true,
		Caller:    &fakeCaller{err: errors.New("database on fire")},
	})
	do(t, s, "GET", "/v2/rpc/echo?http_key="+secret, nil, "")
	do(t, s, "GET", "/v2/rpc/echo?http_key=wrong-"+secret, nil, "")
	// Shutdown waits for the handlers, and so for the access log lines.
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	logs := buf.String()
	for _, want := range []string{
		`"level":"error"`, `"error":"database on fire"`, `"status":500`,
		`"method":"GET"`, `"path":"/v2/rpc/echo"`, `"size":`, `"duration":`, `"req_id":"`, `"remote_addr":"127.0.0.1:`,
		`"component":"httpapi"`, `"status":401`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, secret) {
		t.Errorf("logs contain the HTTP key:\n%s", logs)
	}
	if n := strings.Count(logs, "database on fire"); n != 1 {
		t.Errorf("error logged %d times, want once:\n%s", n, logs)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
