package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/host"
)

// Nakama's fixed bodies, byte for byte (server/api_rpc.go, grpc-gateway).
const (
	wantNoAuth       = `{"error":"Auth token or HTTP key required","message":"Auth token or HTTP key required","code":16}`
	wantKeyInvalid   = `{"error":"HTTP key invalid","message":"HTTP key invalid","code":16}`
	wantTokenInvalid = `{"error":"Auth token invalid","message":"Auth token invalid","code":16}`
	wantIDRequired   = `{"error":"RPC ID must be set","message":"RPC ID must be set","code":3}`
	wantRPCNotFound  = `{"error":"RPC function not found","message":"RPC function not found","code":5}`
	wantBadJSON      = `{"error":"json: cannot unmarshal object into Go value of type string","message":"json: cannot unmarshal object into Go value of type string","code":3}`
	wantTooLarge     = `{"code":3, "message":"http: request body too large"}`
	wantInternal     = `{"error":"Internal Server Error","message":"Internal Server Error","code":13}`
	wantNotFound     = `{"code":5,"message":"Not Found"}`
	wantMethod       = `{"code":12,"message":"Method Not Allowed"}`
	wantBadEncoding  = `{"error":"unsupported content encoding","message":"unsupported content encoding","code":3}`
)

func TestServer_FixedErrors(t *testing.T) {
	key := http.Header{"Authorization": {basic(testHTTPKey + ":")}}
	expired := validClaims()
	expired.ExpiresAt = 1
	revoked := validClaims()
	parts := strings.Split(token(t, testEncKey, validClaims()), ".")
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		body   string
		caller *fakeCaller
		status int
		want   string
	}{
		{name: "no auth", path: "/v2/rpc/echo", status: 401, want: wantNoAuth},
		{name: "no auth, empty id", path: "/v2/rpc/", status: 401, want: wantNoAuth},
		{name: "no auth, unknown id", path: "/v2/rpc/missing", caller: notFound(), status: 401, want: wantNoAuth},
		{name: "header named http_key is not read", path: "/v2/rpc/echo", header: http.Header{"Http_key": {testHTTPKey}}, status: 401, want: wantNoAuth},
		{name: "wrong query key", path: "/v2/rpc/echo?http_key=nope", status: 401, want: wantKeyInvalid},
		{name: "wrong query key with valid bearer", path: "/v2/rpc/echo?http_key=nope", header: bearer(t), status: 401, want: wantKeyInvalid},
		{name: "wrong Basic key", path: "/v2/rpc/echo", header: http.Header{"Authorization": {basic("nope:" + testHTTPKey)}}, status: 401, want: wantKeyInvalid},
		{name: "Basic key as password", path: "/v2/rpc/echo", header: http.Header{"Authorization": {basic(":" + testHTTPKey)}}, status: 401, want: wantKeyInvalid},
		{name: "Basic without colon", path: "/v2/rpc/echo", header: http.Header{"Authorization": {basic(testHTTPKey)}}, status: 401, want: wantTokenInvalid},
		{name: "Basic bad base64", path: "/v2/rpc/echo", header: http.Header{"Authorization": {"Basic !!!"}}, status: 401, want: wantTokenInvalid},
		{name: "basic lowercase", path: "/v2/rpc/echo", header: http.Header{"Authorization": {strings.Replace(basic(testHTTPKey+":"), "Basic", "basic", 1)}}, status: 401, want: wantTokenInvalid},
		{name: "bearer lowercase", path: "/v2/rpc/echo", header: http.Header{"Authorization": {"bearer " + token(t, testEncKey, validClaims())}}, status: 401, want: wantTokenInvalid},
		{name: "other scheme", path: "/v2/rpc/echo", header: http.Header{"Authorization": {"Token abc"}}, status: 401, want: wantTokenInvalid},
		{name: "empty Authorization", path: "/v2/rpc/echo", header: http.Header{"Authorization": {""}}, status: 401, want: wantTokenInvalid},
		{name: "expired token", path: "/v2/rpc/echo", header: auth(token(t, testEncKey, expired)), status: 401, want: wantTokenInvalid},
		{name: "token of another key", path: "/v2/rpc/echo", header: auth(token(t, []byte("otherkey"), validClaims())), status: 401, want: wantTokenInvalid},
		{name: "alg none", path: "/v2/rpc/echo", header: auth(b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + "."), status: 401, want: wantTokenInvalid},
		{name: "tampered token", path: "/v2/rpc/echo", header: auth(parts[0] + "." + b64(`{"uid":"`+testUserID+`","exp":9999999999}`) + "." + parts[2]), status: 401, want: wantTokenInvalid},
		{name: "revoked session", path: "/v2/rpc/echo", header: auth(token(t, testEncKey, revoked)), status: 401, want: wantTokenInvalid},
		{name: "empty id", path: "/v2/rpc/", header: key, status: 400, want: wantIDRequired},
		{name: "unknown id", path: "/v2/rpc/missing", header: key, caller: notFound(), status: 404, want: wantRPCNotFound},
		{name: "body object", method: "POST", path: "/v2/rpc/echo", header: key, body: `{"a":1}`, status: 400, want: wantBadJSON},
		{name: "body number", method: "POST", path: "/v2/rpc/echo", header: key, body: `1`, status: 400, want: wantBadJSON},
		{name: "body bare text", method: "POST", path: "/v2/rpc/echo", header: key, body: `hello`, status: 400, want: wantBadJSON},
		{name: "body two strings", method: "POST", path: "/v2/rpc/echo", header: key, body: `"a""b"`, status: 400, want: wantBadJSON},
		{name: "gzip body", method: "POST", path: "/v2/rpc/echo?unwrap", header: http.Header{"Authorization": key["Authorization"], "Content-Encoding": {"gzip"}}, body: "x", status: 400, want: wantBadEncoding},
		{name: "caller error", path: "/v2/rpc/echo", header: key, caller: &fakeCaller{err: errors.New("boom")}, status: 500, want: wantInternal},
		{name: "caller panic", path: "/v2/rpc/echo", header: key, caller: &fakeCaller{fn: func(context.Context, *host.Request) (host.Result, error) { panic("boom") }}, status: 500, want: wantInternal},
		{name: "PUT", method: "PUT", path: "/v2/rpc/echo", header: key, status: 501, want: wantMethod},
		{name: "DELETE", method: "DELETE", path: "/v2/rpc/echo", status: 501, want: wantMethod},
		{name: "PATCH", method: "PATCH", path: "/v2/rpc/echo", status: 501, want: wantMethod},
		{name: "POST healthcheck", method: "POST", path: "/healthcheck", status: 501, want: wantMethod},
		{name: "unknown path", path: "/v2/nope", status: 404, want: wantNotFound},
		{name: "rpc without slash", path: "/v2/rpc", header: key, status: 404, want: wantNotFound},
		{name: "uppercase path", path: "/V2/RPC/echo", header: key, status: 404, want: wantNotFound},
		{name: "bench route off", path: "/_bench/echo", header: key, status: 404, want: wantNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.caller == nil {
				tt.caller = echo()
			}
			if tt.method == "" {
				tt.method = "GET"
			}
			s := startServer(t, Config{Caller: tt.caller, Sessions: &checkSessions{revoked: revoked.TokenID}})
			got := do(t, s, tt.method, tt.path, tt.header, tt.body)
			if got.status != tt.status || got.body != tt.want {
				t.Errorf("got %d %s\nwant %d %s", got.status, got.body, tt.status, tt.want)
			}
			if ct := got.header.Get("Content-Type"); ct != contentTypeJSON {
				t.Errorf("Content-Type = %q, want %q", ct, contentTypeJSON)
			}
			checkCommonHeaders(t, got.header)
		})
	}
}

func TestServer_BodyTooLarge(t *testing.T) {
	caller := echo()
	s := startServer(t, Config{Caller: caller, MaxBodyBytes: 16})
	for _, size := range []int{16, 17, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			got := do(t, s, "POST", "/v2/rpc/echo?unwrap&http_key="+testHTTPKey, nil, strings.Repeat("x", size))
			if size <= 16 {
				if got.status != 200 || len(got.body) != size {
					t.Fatalf("got %d %q, want 200 with the body", got.status, got.body)
				}
				return
			}
			if got.status != 400 || got.body != wantTooLarge {
				t.Errorf("got %d %s, want 400 %s", got.status, got.body, wantTooLarge)
			}
		})
	}
	if n := len(caller.requests()); n != 1 {
		t.Errorf("caller called %d times, want once (for the body within the limit)", n)
	}
}

func TestServer_CallErrorCodes(t *testing.T) {
	tests := []struct {
		code   abi.Code
		status int
		want   abi.Code // code after normalization
	}{
		{0, 500, 13}, {1, 499, 1}, {2, 500, 2}, {3, 400, 3}, {4, 504, 4}, {5, 404, 5},
		{6, 409, 6}, {7, 403, 7}, {8, 429, 8}, {9, 400, 9}, {10, 409, 10}, {11, 400, 11},
		{12, 501, 12}, {13, 500, 13}, {14, 503, 14}, {15, 500, 15}, {16, 401, 16},
		{17, 500, 13}, {99, 500, 13}, {-1, 500, 13},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("plugin/%d", tt.code), func(t *testing.T) {
			ce := &host.CallError{Code: tt.code, Message: `bad <input> "x"`, Plugin: "game", Version: "2.0.0", Err: errors.New("cause")}
			s := startServer(t, Config{Caller: &fakeCaller{err: fmt.Errorf("wrapped: %w", ce)}})
			got := do(t, s, "POST", "/v2/rpc/echo?http_key="+testHTTPKey, nil, `"x"`)
			// Nakama: json.Marshal(map{"error": *runtime.Error, "message", "code"}),
			// with runtime.Error{Message, Code} keeping the function's code.
			want := fmt.Sprintf(`{"code":%d,"error":{"Message":"bad \u003cinput\u003e \"x\"","Code":%d},"message":"bad \u003cinput\u003e \"x\""}`, tt.want, tt.code)
			if got.status != tt.status || got.body != want {
				t.Errorf("got %d %s\nwant %d %s", got.status, got.body, tt.status, want)
			}
			if p := got.header.Get("Warden-Plugin"); p != "game@2.0.0" {
				t.Errorf("Warden-Plugin = %q, want game@2.0.0", p)
			}
		})
		t.Run(fmt.Sprintf("host/%d", tt.code), func(t *testing.T) {
			s := startServer(t, Config{Caller: &fakeCaller{err: &host.CallError{Code: tt.code, Refused: host.RefusedClosing}}})
			got := do(t, s, "GET", "/v2/rpc/echo?http_key="+testHTTPKey, nil, "")
			want := fmt.Sprintf(`{"error":"server is shutting down","message":"server is shutting down","code":%d}`, tt.want)
			if got.status != tt.status || got.body != want {
				t.Errorf("got %d %s\nwant %d %s", got.status, got.body, tt.status, want)
			}
			if p, ok := got.header["Warden-Plugin"]; ok {
				t.Errorf("Warden-Plugin = %q, want none", p)
			}
		})
	}
}

// TestServer_Refusals checks the wire bytes of each of the host's refusals:
// those Nakama's API answers itself in the fixed shape, naming no plugin;
// those a Nakama plugin answers itself (a server-only RPC) in the runtime
// shape, naming the plugin the host refused to run.
func TestServer_Refusals(t *testing.T) {
	tests := []struct {
		name      string
		err       *host.CallError
		status    int
		body      string
		plugin    string
		routeBody string
	}{
		{"NotFound", &host.CallError{Code: abi.CodeNotFound, Refused: host.RefusedNotFound}, 404,
			wantRPCNotFound, "", wantNotFound},
		{"Closing", &host.CallError{Code: abi.CodeUnavailable, Refused: host.RefusedClosing}, 503,
			`{"error":"server is shutting down","message":"server is shutting down","code":14}`, "",
			`{"code":14,"message":"server is shutting down"}`},
		{"ServerOnly", &host.CallError{Code: abi.CodePermissionDenied, Refused: host.RefusedServerOnly, Plugin: "game", Version: "2.0.0"}, 403,
			`{"code":7,"error":{"Message":"rpc is only callable via server to server","Code":7},"message":"rpc is only callable via server to server"}`, "game@2.0.0",
			`{"code":7,"message":"rpc is only callable via server to server"}`},
		{"CoolingDown", &host.CallError{Code: abi.CodeUnavailable, Refused: host.RefusedCoolingDown, Plugin: "game", Version: "2.0.0"}, 503,
			`{"code":14,"error":{"Message":"plugin is cooling down after repeated crashes","Code":14},"message":"plugin is cooling down after repeated crashes"}`, "game@2.0.0",
			`{"code":14,"message":"plugin is cooling down after repeated crashes"}`},
		{"Replaced", &host.CallError{Code: abi.CodeUnavailable, Refused: host.RefusedReplaced, Plugin: "game", Version: "2.0.0"}, 503,
			`{"error":"plugin route was reloaded, retry","message":"plugin route was reloaded, retry","code":14}`, "",
			`{"code":14,"message":"plugin route was reloaded, retry"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{Caller: &fakeCaller{err: fmt.Errorf("wrapped: %w", tt.err)}})
			got := do(t, s, "POST", "/v2/rpc/echo?http_key="+testHTTPKey, nil, `"x"`)
			if got.status != tt.status || got.body != tt.body {
				t.Errorf("got %d %s\nwant %d %s", got.status, got.body, tt.status, tt.body)
			}
			if p := got.header.Get("Warden-Plugin"); p != tt.plugin {
				t.Errorf("Warden-Plugin = %q, want %q", p, tt.plugin)
			}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/hook", nil)
			if err := routeError(rec, req, tt.err); err == nil {
				t.Fatal("routeError returned no error")
			} else if e := toGateway(err); e.raw != tt.routeBody || e.Status != tt.status {
				t.Errorf("route: got %d %s\nwant %d %s", e.Status, e.raw, tt.status, tt.routeBody)
			}
			if p := rec.Header().Get("Warden-Plugin"); p != tt.plugin {
				t.Errorf("route: Warden-Plugin = %q, want %q", p, tt.plugin)
			}
		})
	}
}

// TestRefusals_Worded fails when host has a Refusal that httpapi does not
// word, which a client would see as the host's log text.
func TestRefusals_Worded(t *testing.T) {
	for r := host.Refusal(1); r != 0; r++ {
		if strings.HasPrefix(r.String(), "refusal(") {
			continue // not defined
		}
		if _, ok := refusals[r]; !ok {
			t.Errorf("host.Refusal %d (%v) has no wire text in refusals", r, r)
		}
	}
}

func TestRuntimeBody_MatchesNakama(t *testing.T) {
	// What Nakama marshals for runtime.NewError("bad input", 3).
	type runtimeError struct {
		Message string
		Code    int
	}
	want, _ := json.Marshal(map[string]any{"error": &runtimeError{"bad input", 3}, "message": "bad input", "code": 3})
	if got := runtimeBody(3, 3, "bad input"); string(got) != string(want) {
		t.Errorf("runtimeBody = %s, want %s", got, want)
	}
}

// notFound returns a caller that answers as the host does for an unknown id.
func notFound() *fakeCaller {
	return &fakeCaller{err: &host.CallError{Code: abi.CodeNotFound, Refused: host.RefusedNotFound}}
}

// checkCommonHeaders checks the header every response carries,
// Cache-Control. Access-Control-Allow-Origin depends on the request's
// Origin (TestServer_CORSOrigin).
func checkCommonHeaders(t *testing.T, h http.Header) {
	t.Helper()
	if got := h.Get("Cache-Control"); got != "no-store, no-cache, must-revalidate" {
		t.Errorf("Cache-Control = %q", got)
	}
}

// TestServer_badJSONHint checks that a body that is not a JSON string,
// answered with Nakama's fixed message, is logged at info level (the
// default) with the real reason, a hint on what to do, and the request id.
func TestServer_badJSONHint(t *testing.T) {
	var buf syncBuffer
	s := serve(t, Config{Logger: zerolog.New(&buf).Level(zerolog.InfoLevel)})
	got := do(t, s, "POST", "/v2/rpc/echo?http_key="+testHTTPKey, nil, `hello`)
	if got.status != 400 || got.body != wantBadJSON {
		t.Fatalf("got %d %s, want 400 %s", got.status, got.body, wantBadJSON)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(buf.String(), "\n") {
		var e struct {
			Level, Error, Hint string
			ReqID              string `json:"req_id"`
		}
		if json.Unmarshal([]byte(line), &e) != nil || e.Hint == "" {
			continue
		}
		if e.Level != "info" || !strings.Contains(e.Error, "invalid character 'h'") ||
			!strings.Contains(e.Hint, "JSON string") || !strings.Contains(e.Hint, "unwrap") || e.ReqID == "" {
			t.Fatalf("log line %s: want level info, the real reason, a hint naming a JSON string and unwrap, and req_id", line)
		}
		t.Log(line)
		return
	}
	t.Fatalf("no log line with a hint:\n%s", buf.String())
}

// TestPluginMarks checks that each plugin version's Warden-Plugin value is
// built once and shared, under concurrent readers and writers, and that
// the values held stay bounded.
func TestPluginMarks(t *testing.T) {
	var pm pluginMarks
	var wg sync.WaitGroup
	first := make([][]string, 8)
	for i := range first {
		wg.Go(func() {
			for j := range 100 {
				v := pm.value("p", fmt.Sprint(j%10))
				if v[0] != "p@"+fmt.Sprint(j%10) {
					t.Errorf("value = %q", v)
				}
			}
			first[i] = pm.value("p", "0")
		})
	}
	wg.Wait()
	for _, v := range first {
		if &v[0] != &first[0][0] {
			t.Fatal("two values built for one plugin version")
		}
	}
	if n := pm.len(); n != 10 {
		t.Fatalf("%d values held, want 10", n)
	}
	// Past the newest few, a value is still the one built first.
	for i := range 3 * recentMarks {
		pm.value("r", fmt.Sprint(i))
	}
	if v := pm.value("p", "0"); &v[0] != &first[0][0] || v[0] != "p@0" {
		t.Fatalf("value %q, built again or wrong, after newer ones", v)
	}
	// The list holds the newest values, newest first, and no more than
	// recentMarks of them.
	set := pm.m.Load()
	if len(set.recent) != recentMarks || set.recent[0].v[0] != fmt.Sprint("r@", 3*recentMarks-1) {
		t.Fatalf("%d values in the list, the first %q; want %d, the newest first",
			len(set.recent), set.recent[0].v, recentMarks)
	}
	for i := range maxPluginMarks + 5 {
		pm.value("q", fmt.Sprint(i))
	}
	if n := pm.len(); n > maxPluginMarks {
		t.Fatalf("%d values held, over the bound %d", n, maxPluginMarks)
	}
}
