package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const aliceID = "8f4e6a52-3b1c-4c1e-9d59-5c3f0a3b7e21"

// TestServer_bundledPlugins drives the bundled Rust plugins through the
// real binary's wiring: HTTP listener, auth, host, SQLite.
func TestServer_bundledPlugins(t *testing.T) {
	s := startServer(t, dataArgs(t, "../../plugins")...)
	bearer := map[string]string{"Authorization": "Bearer " + token(t, aliceID, "alice", time.Now().Add(time.Hour))}
	key := "?http_key=" + testHTTPKey
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		wantStatus               int
		wantBody                 string
	}{
		{"SeedHTTPHandlerPath", "POST", "/v2/rpc/http_handler_path" + key, `"{\"a\":[1,\"x\"]}"`, nil, 200, `{"payload":"{\"message\":{\"a\":[1,\"x\"]}}"}`},
		{"SeedHTTPHandlerPathBadJSON", "POST", "/v2/rpc/http_handler_path" + key + "&unwrap", `{bad`, nil, 400, ""},
		{"SeedServerRPCFromServer", "POST", "/v2/rpc/server_rpc" + key, "", nil, 200, `{"payload":"{\"ok\":true}"}`},
		{"SeedServerRPCFromUser", "POST", "/v2/rpc/server_rpc", "", bearer, 403, `{"code":7,"error":{"Message":"rpc is only callable via server to server","Code":7},"message":"rpc is only callable via server to server"}`},
		{"SeedFlaggedFromServer", "POST", "/v2/rpc/server_rpc_flagged" + key, "", nil, 200, `{"payload":"{\"ok\":true}"}`},
		{"SeedFlaggedFromUser", "POST", "/v2/rpc/server_rpc_flagged", "", bearer, 403, ""},
		{"SeedCustomRPCFromUser", "POST", "/v2/rpc/custom_rpc_func_id", `"{}"`, bearer, 403, ""},
		{"SeedCustomRPCFromServer", "POST", "/v2/rpc/custom_rpc_func_id" + key, `"{\"m\":1}"`, nil, 200, `{"payload":"{\"message\":{\"m\":1}}"}`},
		{"EchoUnwrap", "POST", "/v2/rpc/echo" + key + "&unwrap", `{"raw":true}`, map[string]string{"Content-Type": "application/json"}, 200, `{"raw":true}`},
		{"EchoGETPayload", "GET", "/v2/rpc/echo" + key + "&payload=%7B%22a%22%3A1%7D", "", nil, 200, `{"payload":"{\"a\":1}"}`},
		{"EchoCaseInsensitive", "POST", "/v2/rpc/ECHO" + key, `"hi"`, nil, 200, `{"payload":"hi"}`},
		{"EchoBasicAuth", "POST", "/v2/rpc/echo", `"b"`, map[string]string{"Authorization": "Basic " + basic(testHTTPKey)}, 200, `{"payload":"b"}`},
		{"WhoamiUser", "POST", "/v2/rpc/whoami", "", bearer, 200, `{"payload":"{\"user_id\":\"` + aliceID + `\",\"username\":\"alice\"}"}`},
		{"WhoamiServer", "POST", "/v2/rpc/whoami" + key, "", nil, 200, `{"payload":"{\"user_id\":null,\"username\":null}"}`},
		{"ErrNoAuth", "POST", "/v2/rpc/echo", "", nil, 401, `{"error":"Auth token or HTTP key required","message":"Auth token or HTTP key required","code":16}`},
		{"ErrWrongKey", "POST", "/v2/rpc/echo?http_key=nope", "", nil, 401, `{"error":"HTTP key invalid","message":"HTTP key invalid","code":16}`},
		{"ErrExpiredToken", "POST", "/v2/rpc/echo", "", map[string]string{"Authorization": "Bearer " + token(t, aliceID, "alice", time.Now().Add(-time.Minute))}, 401, `{"error":"Auth token invalid","message":"Auth token invalid","code":16}`},
		{"ErrUnknownID", "POST", "/v2/rpc/nope" + key, "", nil, 404, `{"error":"RPC function not found","message":"RPC function not found","code":5}`},
		{"ErrEmptyID", "POST", "/v2/rpc/" + key, "", nil, 400, `{"error":"RPC ID must be set","message":"RPC ID must be set","code":3}`},
		{"ErrNotJSONString", "POST", "/v2/rpc/echo" + key, `{"a":1}`, nil, 400, `{"error":"json: cannot unmarshal object into Go value of type string","message":"json: cannot unmarshal object into Go value of type string","code":3}`},
		{"ErrBodyTooLarge", "POST", "/v2/rpc/echo" + key + "&unwrap", strings.Repeat("x", 256<<10+1), nil, 400, `{"code":3, "message":"http: request body too large"}`},
		{"Healthcheck", "GET", "/healthcheck", "", nil, 200, `{}`},
		{"SeedCustomHTTP", "GET", "/test", "", nil, 200, "You hit the new endpoint!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, tt.method, s.URL+tt.path, tt.body, tt.header)
			if res.Status != tt.wantStatus || (tt.wantBody != "" && res.Body != tt.wantBody) {
				t.Fatalf("got %d %s, want %d %s", res.Status, res.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func basic(user string) string {
	return base64Std(user + ":")
}

// TestServer_sqliteSurvivesRestart increments a counter, restarts the
// server on the same data directory, and checks the count goes on.
func TestServer_sqliteSurvivesRestart(t *testing.T) {
	args := dataArgs(t, "../../plugins")
	incr := func(s *server) int {
		res := do(t, "POST", s.URL+"/v2/rpc/counter_incr?unwrap&http_key="+testHTTPKey, `{"name":"visits","by":2}`, nil)
		var out struct{ Value int }
		if res.Status != 200 || json.Unmarshal([]byte(res.Body), &out) != nil {
			t.Fatalf("counter_incr: %d %s", res.Status, res.Body)
		}
		return out.Value
	}
	s := startServer(t, args...)
	if got := incr(s); got != 2 {
		t.Fatalf("first increment = %d, want 2", got)
	}
	s.stop(t)
	s = startServer(t, args...)
	if got := incr(s); got != 4 {
		t.Fatalf("increment after restart = %d, want 4", got)
	}
}

// TestServer_errorTable sends every code a plugin can set through HTTP, and
// the host's own failures: trap, panic, deadline and memory cap. Only the
// deadline row runs on a server with a short -call-timeout: the other calls
// keep the default, so that a loaded machine cannot turn them into code 4
// (growing memory to the cap takes hundreds of milliseconds under -race).
func TestServer_errorTable(t *testing.T) {
	s := startServer(t, append(dataArgs(t, fixtureDir(t, "../../host/testdata/hostile.wasm")),
		"-max-memory", "4")...)
	key := "?unwrap&http_key=" + testHTTPKey
	wantStatus := map[int]int{1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400,
		10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401}
	for code := 1; code <= 17; code++ {
		t.Run(fmt.Sprintf("Code%d", code), func(t *testing.T) {
			// The hostile plugin's "fail" sets the payload's length as the code.
			res := do(t, "POST", s.URL+"/v2/rpc/fail"+key, strings.Repeat("x", code), nil)
			want, wantCode := wantStatus[code], code
			if code == 17 {
				want, wantCode = 500, 13
			}
			body := fmt.Sprintf(`{"code":%d,"error":{"Message":"failed on purpose","Code":%d},"message":"failed on purpose"}`, wantCode, wantCode)
			if res.Status != want || res.Body != body {
				t.Fatalf("got %d %s, want %d %s", res.Status, res.Body, want, body)
			}
		})
	}
	hostErrors := []struct{ name, id, message string }{
		{"Trap", "trap", "plugin trapped: wasm error: unreachable"},
		{"Panic", "panic", "panic: boom at hostile.wat"},
	}
	for _, tt := range hostErrors {
		t.Run(tt.name, func(t *testing.T) {
			checkHostError(t, s.URL+"/v2/rpc/"+tt.id+key, tt.message)
		})
	}
	t.Run("Deadline", func(t *testing.T) {
		short := startServer(t, append(dataArgs(t, fixtureDir(t, "../../host/testdata/hostile.wasm")),
			"-call-timeout", "1s")...)
		checkHostError(t, short.URL+"/v2/rpc/loop"+key, "rpc exceeded its deadline")
	})
	t.Run("MemoryCap", func(t *testing.T) {
		res := do(t, "POST", s.URL+"/v2/rpc/grow"+key, "", nil)
		if res.Status != 200 || len(res.Body) != 4 || res.Body[0] > 64 {
			t.Fatalf("grow: %d %q, want at most 64 pages (4 MiB)", res.Status, res.Body)
		}
	})
}

// checkHostError calls url and checks that the host's own failure answers
// with message, the status of its code (13 or 4) and the plugin's name.
func checkHostError(t *testing.T, url, message string) {
	t.Helper()
	res := do(t, "POST", url, "", nil)
	var body struct {
		Code    int
		Message string
	}
	_ = json.Unmarshal([]byte(res.Body), &body)
	if body.Message != message || res.Status != map[int]int{13: 500, 4: 504}[body.Code] {
		t.Fatalf("got %d %s, want message %q", res.Status, res.Body, message)
	}
	if !strings.HasPrefix(res.Header.Get("Warden-Plugin"), "hostile@") {
		t.Fatalf("Warden-Plugin header = %q", res.Header.Get("Warden-Plugin"))
	}
}

// TestServer_concurrent sends concurrent calls, some trapping, under -race.
func TestServer_concurrent(t *testing.T) {
	s := startServer(t, dataArgs(t, "../../plugins")...)
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				msg := fmt.Sprintf("w%d-%d", w, i)
				res := do(t, "POST", s.URL+"/v2/rpc/echo?unwrap&http_key="+testHTTPKey, msg, nil)
				if res.Status != http.StatusOK || res.Body != msg {
					errs <- fmt.Sprintf("%s: %d %s", msg, res.Status, res.Body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestServer_gracefulShutdown stops the server while a call is in flight:
// the call must still get its answer, not a broken connection.
func TestServer_gracefulShutdown(t *testing.T) {
	s := startServer(t, append(dataArgs(t, fixtureDir(t, "../../host/testdata/hostile.wasm")),
		"-call-timeout", "5s", "-metrics-addr", "127.0.0.1:0")...)
	murl := metricsURL(t, s)
	got := make(chan response, 1)
	go func() {
		got <- do(t, "POST", s.URL+"/v2/rpc/loop?unwrap&http_key="+testHTTPKey, "", nil)
	}()
	// Stop once the server is serving the call (a sleep would guess). The
	// loop runs 5 s: a window no loaded machine misses.
	for end := time.Now().Add(time.Minute); scrape(t, murl)["warden_http_requests_in_flight"] < 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the call never showed in warden_http_requests_in_flight")
		}
	}
	s.stop(t)
	select {
	case res := <-got:
		if res.Status != http.StatusGatewayTimeout {
			t.Fatalf("in-flight call got %d %s, want its 504 deadline answer", res.Status, res.Body)
		}
	case <-time.After(time.Minute):
		t.Fatal("in-flight call never answered")
	}
}
