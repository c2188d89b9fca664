package main

import (
	"testing"
	"time"
)

// TestServer_examples serves each example plugin of examples/<language>
// on its own server (they register the same ids as the bundled Rust
// plugins) and checks it behaves as its Rust twin in plugins/.
func TestServer_examples(t *testing.T) {
	bearer := map[string]string{"Authorization": "Bearer " + token(t, aliceID, "alice", time.Now().Add(time.Hour))}
	key := "?unwrap&http_key=" + testHTTPKey
	type call struct {
		method, path, body string
		header             map[string]string
		wantStatus         int
		wantBody           string
	}
	echo := []call{
		{"POST", "/v2/rpc/echo" + key, `{"a":"é"}`, nil, 200, `{"a":"é"}`},
		{"POST", "/v2/rpc/whoami", `""`, bearer, 200, `{"payload":"{\"user_id\":\"` + aliceID + `\",\"username\":\"alice\"}"}`},
	}
	guard := []call{
		{"POST", "/v2/rpc/server_rpc" + key, "", nil, 200, `{"ok":true}`},
		{"POST", "/v2/rpc/server_rpc", "", bearer, 403, `{"code":7,"error":{"Message":"rpc is only callable via server to server","Code":7},"message":"rpc is only callable via server to server"}`},
		{"POST", "/v2/rpc/server_rpc_flagged", "", bearer, 403, ""},
	}
	seed := append(append([]call{}, guard...),
		call{"POST", "/v2/rpc/http_handler_path" + key, `{"b":[1]}`, nil, 200, `{"message":{"b":[1]}}`},
		call{"POST", "/v2/rpc/custom_rpc_func_id", `"{}"`, bearer, 403, ""},
		call{"GET", "/test", "", nil, 200, "You hit the new endpoint!"},
	)
	tests := []struct {
		name  string
		wasm  string
		calls []call
	}{
		{"AssemblyScriptEcho", "../../examples/assemblyscript/echo/echo.wasm", echo},
		{"AssemblyScriptSeed", "../../examples/assemblyscript/seed/seed.wasm", seed},
		{"GoEcho", "../../examples/go/echo/echo.wasm", echo},
		{"GoGuard", "../../examples/go/guard/guard.wasm", guard},
		{"CEcho", "../../examples/c/echo/echo.wasm", echo},
		{"CGuard", "../../examples/c/guard/guard.wasm", guard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, append(dataArgs(t, fixtureDir(t, tt.wasm)), "-access-log=false")...)
			for _, c := range tt.calls {
				res := do(t, c.method, s.URL+c.path, c.body, c.header)
				if res.Status != c.wantStatus || (c.wantBody != "" && res.Body != c.wantBody) {
					t.Errorf("%s %s: got %d %s, want %d %s", c.method, c.path, res.Status, res.Body, c.wantStatus, c.wantBody)
				}
			}
		})
	}
}
