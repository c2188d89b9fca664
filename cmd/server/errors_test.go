package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestServer_errorBodies checks the README's table of error body shapes,
// one request per row against a real server: the fixed shape (error is a
// string), the runtime shape (error is an object), Nakama's body-too-large
// literal and grpc-gateway's shape (no error).
func TestServer_errorBodies(t *testing.T) {
	s := startServer(t, append(dataArgs(t, "../../plugins"), "-server-key", "cfg-server-key-0123456789", "-max-body", "64", "-access-log=false")...)
	bearer := map[string]string{"Authorization": "Bearer " + token(t, aliceID, "alice", time.Now().Add(time.Hour))}
	const (
		fixed   = "fixed"
		runtime = "runtime"
		gateway = "gateway"
		literal = "literal"
	)
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		shape                    string
	}{
		{"RPCBadKey", "POST", "/v2/rpc/echo?http_key=wrong", `""`, nil, 401, fixed},
		{"RPCNoAuth", "POST", "/v2/rpc/echo", `""`, nil, 401, fixed},
		{"RPCBadJSON", "POST", "/v2/rpc/echo?http_key=" + testHTTPKey, `{"a":1}`, nil, 400, fixed},
		{"RPCUnknown", "POST", "/v2/rpc/nope?http_key=" + testHTTPKey, `""`, nil, 404, fixed},
		{"AdminBadKey", "GET", "/_warden/plugins?http_key=wrong", "", nil, 401, fixed},
		{"AdminSession", "GET", "/_warden/plugins", "", bearer, 403, fixed},
		{"PluginError", "POST", "/v2/rpc/server_rpc", `""`, bearer, 403, runtime},
		{"HostGuard", "POST", "/v2/rpc/server_rpc_flagged", `""`, bearer, 403, runtime},
		{"TooLarge", "POST", "/v2/rpc/echo?unwrap&http_key=" + testHTTPKey, strings.Repeat("x", 100), nil, 400, literal},
		{"AccountBadServerKey", "POST", "/v2/account/authenticate/device", `{"id":"my-device-0001"}`, map[string]string{"Authorization": "Basic " + base64Std("wrong:")}, 401, gateway},
		{"UnknownPath", "GET", "/nope", "", nil, 404, gateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, tt.method, s.URL+tt.path, tt.body, tt.header)
			if res.Status != tt.status || res.ContentType != "application/json" {
				t.Fatalf("got %d %s %s, want %d application/json", res.Status, res.ContentType, res.Body, tt.status)
			}
			if got := bodyShape(t, res.Body); got != tt.shape {
				t.Fatalf("body %s has the %s shape, want %s", res.Body, got, tt.shape)
			}
		})
	}
}

// bodyShape names the shape of an error body: by its "error" field (a
// string, an object or none), or "literal" for Nakama's body-too-large
// text.
func bodyShape(t *testing.T, body string) string {
	t.Helper()
	if body == `{"code":3, "message":"http: request body too large"}` {
		return "literal"
	}
	var b struct {
		Code    *int
		Message *string
		Error   json.RawMessage
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil || b.Code == nil || b.Message == nil {
		t.Fatalf("body %s: want JSON with code and message (%v)", body, err)
	}
	switch {
	case b.Error == nil:
		return "gateway"
	case b.Error[0] == '"':
		return "fixed"
	case b.Error[0] == '{':
		return "runtime"
	}
	return "unknown"
}
