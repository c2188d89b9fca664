package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/session"
)

func TestServer_RPC_Payload(t *testing.T) {
	key := "http_key=" + testHTTPKey
	tests := []struct {
		name        string
		method      string
		path        string
		header      http.Header
		body        string
		wantPayload string
		wantBody    string
		wantCT      string
	}{
		{name: "POST JSON string", method: "POST", path: "/v2/rpc/echo?" + key, body: `"{\"a\":1}"`, wantPayload: `{"a":1}`, wantBody: `{"payload":"{\"a\":1}"}`, wantCT: "application/json"},
		{name: "POST Nakama test", method: "POST", path: "/v2/rpc/helloworld?" + key, body: `"Hello World"`, wantPayload: "Hello World", wantBody: `{"payload":"Hello World"}`, wantCT: "application/json"},
		{name: "POST empty body", method: "POST", path: "/v2/rpc/echo?" + key, wantPayload: "", wantBody: `{"payload":""}`, wantCT: "application/json"},
		{name: "POST null", method: "POST", path: "/v2/rpc/echo?" + key, body: `null`, wantPayload: "", wantBody: `{"payload":""}`, wantCT: "application/json"},
		{name: "POST string with spaces", method: "POST", path: "/v2/rpc/echo?" + key, body: " \"x\"\n", wantPayload: "x", wantBody: `{"payload":"x"}`, wantCT: "application/json"},
		{name: "POST HTML escaped", method: "POST", path: "/v2/rpc/echo?" + key, body: `"<a&b>"`, wantPayload: "<a&b>", wantBody: `{"payload":"\u003ca\u0026b\u003e"}`, wantCT: "application/json"},
		{name: "POST unwrap", method: "POST", path: "/v2/rpc/echo?unwrap&" + key, header: http.Header{"Content-Type": {"application/json"}}, body: `{"a":1}`, wantPayload: `{"a":1}`, wantBody: `{"a":1}`, wantCT: "application/json"},
		{name: "POST unwrap empty value", method: "POST", path: "/v2/rpc/echo?unwrap=&" + key, header: http.Header{"Content-Type": {"application/x-custom; v=1"}}, body: `<raw>`, wantPayload: `<raw>`, wantBody: `<raw>`, wantCT: "application/x-custom; v=1"},
		{name: "POST unwrap no content type", method: "POST", path: "/v2/rpc/echo?" + key + "&unwrap=false", body: `"quoted"`, wantPayload: `"quoted"`, wantBody: `"quoted"`, wantCT: "text/plain"},
		{name: "POST unwrap empty body", method: "POST", path: "/v2/rpc/echo?unwrap&" + key, wantPayload: "", wantBody: "", wantCT: "text/plain"},
		{name: "GET no payload", method: "GET", path: "/v2/rpc/echo?" + key, wantPayload: "", wantBody: `{"payload":""}`, wantCT: "application/json"},
		{name: "GET payload param", method: "GET", path: "/v2/rpc/echo?payload=%7B%22a%22%3A1%7D&" + key + "&", wantPayload: `{"a":1}`, wantBody: `{"payload":"{\"a\":1}"}`, wantCT: "application/json"},
		{name: "GET payload unwrap", method: "GET", path: "/v2/rpc/echo?unwrap&payload=hi&" + key, wantPayload: "hi", wantBody: "hi", wantCT: "text/plain"},
		{name: "GET body ignored", method: "GET", path: "/v2/rpc/echo?" + key, body: `"ignored"`, wantPayload: "", wantBody: `{"payload":""}`, wantCT: "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caller := echo()
			s := startServer(t, Config{Caller: caller})
			got := do(t, s, tt.method, tt.path, tt.header, tt.body)
			if got.status != 200 || got.body != tt.wantBody {
				t.Errorf("got %d %s, want 200 %s", got.status, got.body, tt.wantBody)
			}
			if ct := got.header.Get("Content-Type"); ct != tt.wantCT {
				t.Errorf("Content-Type = %q, want %q", ct, tt.wantCT)
			}
			if p := got.header.Get("Warden-Plugin"); p != "echo@1.0.0" {
				t.Errorf("Warden-Plugin = %q, want echo@1.0.0", p)
			}
			checkCommonHeaders(t, got.header)
			if p := string(caller.only(t).Payload); p != tt.wantPayload {
				t.Errorf("payload = %q, want %q", p, tt.wantPayload)
			}
		})
	}
}

func TestWriteResult_MatchesNakama(t *testing.T) {
	outputs := []string{"", "plain", `{"ok":true}`, "<script>&</script>", "\u2028\u2029", "\xff\xfe invalid", "\x00\x1f", "日本"}
	for _, out := range outputs {
		s := startServer(t, Config{Caller: &fakeCaller{res: host.Result{Output: []byte(out)}}})
		got := do(t, s, "GET", "/v2/rpc/x?http_key="+testHTTPKey, nil, "")
		want, _ := json.Marshal(map[string]string{"payload": out})
		if got.body != string(want) {
			t.Errorf("output %q: body %s, want %s", out, got.body, want)
		}
	}
}

func TestServer_RPC_ID(t *testing.T) {
	tests := []struct {
		name string
		path string
		want string
	}{
		{name: "plain", path: "/v2/rpc/echo", want: "echo"},
		{name: "case kept", path: "/v2/rpc/Echo", want: "Echo"},
		{name: "encoded slash", path: "/v2/rpc/a%2Fb", want: "a/b"},
		{name: "slashes", path: "/v2/rpc/a/b/c", want: "a/b/c"},
		{name: "trailing slash", path: "/v2/rpc/a/", want: "a/"},
		{name: "encoded space", path: "/v2/rpc/a%20b", want: "a b"},
		{name: "encoded unicode", path: "/v2/rpc/%E6%97%A5", want: "日"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caller := echo()
			s := startServer(t, Config{Caller: caller})
			if got := do(t, s, "POST", tt.path+"?http_key="+testHTTPKey, nil, ""); got.status != 200 {
				t.Fatalf("status %d %s", got.status, got.body)
			}
			if id := caller.only(t).ID; id != tt.want {
				t.Errorf("ID = %q, want %q", id, tt.want)
			}
		})
	}
}

func TestServer_RPC_Auth(t *testing.T) {
	c := validClaims()
	c.UserID = strings.ToUpper(testUserID)
	tok := token(t, testEncKey, c)
	wantUser := &host.User{ID: testUserID, Username: "alice", Vars: map[string]string{"tier": "gold"}, Expiry: c.ExpiresAt}
	// SessionValid gets the token's claims as the verifier reads them: the
	// user ID in lowercase.
	wantClaims := c
	wantClaims.UserID = testUserID
	tests := []struct {
		name   string
		path   string
		header http.Header
		want   *host.User
	}{
		{name: "query key", path: "/v2/rpc/echo?http_key=" + testHTTPKey},
		{name: "query key wins over bearer", path: "/v2/rpc/echo?http_key=" + testHTTPKey, header: auth(tok)},
		{name: "query key wins over bad bearer", path: "/v2/rpc/echo?http_key=" + testHTTPKey, header: auth("garbage")},
		{name: "query key wins over bad Basic", path: "/v2/rpc/echo?http_key=" + testHTTPKey, header: http.Header{"Authorization": {basic("nope:")}}},
		{name: "empty query key falls back to bearer", path: "/v2/rpc/echo?http_key=", header: auth(tok), want: wantUser},
		{name: "Basic key", path: "/v2/rpc/echo", header: http.Header{"Authorization": {basic(testHTTPKey + ":")}}},
		{name: "Basic key with password", path: "/v2/rpc/echo", header: http.Header{"Authorization": {basic(testHTTPKey + ":any:thing")}}},
		{name: "bearer", path: "/v2/rpc/echo", header: auth(tok), want: wantUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caller := echo()
			sessions := &checkSessions{}
			s := startServer(t, Config{Caller: caller, Sessions: sessions})
			if got := do(t, s, "POST", tt.path, tt.header, ""); got.status != 200 {
				t.Fatalf("status %d %s", got.status, got.body)
			}
			if u := caller.only(t).User; !reflect.DeepEqual(u, tt.want) {
				t.Errorf("User = %+v, want %+v", u, tt.want)
			}
			if tt.want != nil && (len(sessions.seen) != 1 || !reflect.DeepEqual(sessions.seen[0], wantClaims)) {
				t.Errorf("SessionValid saw %+v, want %+v", sessions.seen, wantClaims)
			}
			if tt.want == nil && len(sessions.seen) != 0 {
				t.Errorf("SessionValid called for a server-to-server call")
			}
		})
	}
}

func TestServer_RPC_Request(t *testing.T) {
	caller := echo()
	s := startServer(t, Config{Caller: caller})
	header := http.Header{
		"Authorization":   {"Bearer " + token(t, testEncKey, validClaims())},
		"Grpc-Timeout":    {"1S"},
		"X-Forwarded-For": {"203.0.113.9"},
		"X-Custom":        {"a", "b"},
		"Content-Type":    {"text/plain"},
	}
	for range 2 {
		if got := do(t, s, "POST", "/v2/rpc/echo?http_key=&unwrap&q=1&q=2&payload=p", header, "x"); got.status != 200 {
			t.Fatalf("status %d %s", got.status, got.body)
		}
	}
	reqs := caller.requests()
	req := reqs[0]
	for _, k := range []string{"Authorization", "Grpc-Timeout"} {
		if v, ok := req.Headers[k]; ok {
			t.Errorf("header %s forwarded: %q", k, v)
		}
	}
	for k, want := range map[string][]string{"X-Custom": {"a", "b"}, "Content-Type": {"text/plain"}, "X-Forwarded-For": {"203.0.113.9"}} {
		if got := req.Headers[k]; !reflect.DeepEqual(got, want) {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	wantQuery := map[string][]string{"unwrap": {""}, "q": {"1", "2"}, "payload": {"p"}}
	if got := req.QueryParams(); !reflect.DeepEqual(got, wantQuery) {
		t.Errorf("QueryParams() = %q, want %q", got, wantQuery)
	}
	if req.ClientIP != "127.0.0.1" || req.ClientPort == "" {
		t.Errorf("client = %q:%q, want 127.0.0.1 and the peer's port", req.ClientIP, req.ClientPort)
	}
	if !session.IsUUID(req.TraceID()) || req.TraceID() == reqs[1].TraceID() {
		t.Errorf("trace IDs %q, %q: want two different UUIDs", req.TraceID(), reqs[1].TraceID())
	}
	if string(req.Payload) != "x" {
		t.Errorf("payload = %q, want the body, not the payload parameter, for POST", req.Payload)
	}
}

// TestServer_RPC_ClientGone: a client that goes away while its RPC runs
// cancels the call's context. The client leaves once the call has started,
// however long the request took to arrive.
func TestServer_RPC_ClientGone(t *testing.T) {
	entered := make(chan struct{})
	canceled := make(chan error, 1)
	caller := &fakeCaller{fn: func(ctx context.Context, _ *host.Request) (host.Result, error) {
		close(entered)
		<-ctx.Done()
		canceled <- ctx.Err()
		return host.Result{}, ctx.Err()
	}}
	s := startServer(t, Config{Caller: caller})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-entered
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/v2/rpc/slow?http_key="+testHTTPKey, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("request succeeded, want the client to give up")
	}
	select {
	case err := <-canceled:
		if err != context.Canceled {
			t.Errorf("call context error = %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("call context not canceled after the client went away")
	}
}
