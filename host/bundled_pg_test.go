package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bundledCall is one call to a bundled plugin's RPC, and the answer it
// must give on both engines: the output, or "code N: message".
type bundledCall struct {
	rpc, payload string
	user         bool
	want         string
}

// bundledCalls exercises every RPC of the bundled plugins (plugins/ and
// examples/), in order; RPCs of the same id in several plugins behave the
// same. The kv calls run every statement of plugins/kv: schema, upsert,
// select, upsert with RETURNING in a transaction.
var bundledCalls = []bundledCall{
	{"echo", `{"a":1}`, false, `{"a":1}`},
	{"echo", "", true, ""},
	{"whoami", "", false, `{"user_id":null,"username":null}`},
	{"whoami", "", true, `{"user_id":"00000000-0000-4000-8000-000000000001","username":"alice"}`},
	{"server_rpc", "", false, `{"ok":true}`},
	{"server_rpc", "", true, "code 7: rpc is only callable via server to server"},
	{"server_rpc_flagged", "", false, `{"ok":true}`},
	{"server_rpc_flagged", "", true, "code 7: "},
	{"http_handler_path", `{"x":[1,"y"]}`, false, `{"message":{"x":[1,"y"]}}`},
	{"http_handler_path", `not json`, false, "code 3: invalid JSON at byte 0: invalid literal"},
	{"custom_rpc_func_id", `{"x":1}`, false, `{"message":{"x":1}}`},
	{"custom_rpc_func_id", `{"x":1}`, true, "code 7: Cannot invoke this function from user session"},
	{"kv_put", `{"key":"k","value":"héllo"}`, false, "{}"},
	{"kv_put", `{"key":"k","value":"v2"}`, false, "{}"},
	{"kv_put", `{"key":"k","value":"user's"}`, true, "{}"},
	{"kv_put", `{"key":"","value":"x"}`, false, `code 3: "key" must be 1 to 256 bytes`},
	{"kv_get", `{"key":"k"}`, false, `{"key":"k","value":"v2"}`},
	{"kv_get", `{"key":"k"}`, true, `{"key":"k","value":"user's"}`},
	{"kv_get", `{"key":"missing"}`, false, `code 5: key "missing" not found`},
	{"counter_incr", `{"name":"c"}`, false, `{"name":"c","value":1}`},
	{"counter_incr", `{"name":"c","by":-43}`, false, `{"name":"c","value":-42}`},
	{"counter_incr", `{"name":"c"}`, true, `{"name":"c","value":1}`},
	{"counter_incr", `{"name":"c","by":"x"}`, false, `code 3: "by" must be an integer`},
	{"counter_incr", `{"name":"max","by":9223372036854775807}`, false, `{"name":"max","value":9223372036854775807}`},
	{"counter_incr", `{"name":"max"}`, false, `code 11: counter "max" overflows`},
	{"counter_incr", `{"name":"max","by":-1}`, false, `{"name":"max","value":9223372036854775806}`},
	// examples/rust/fetch runs here without its fetch.toml: no grants.
	{"fetch", `{"url":"http://127.0.0.1:9/x?secret=1"}`, false, `code 7: NOT_GRANTED: http_request: GET http://127.0.0.1:9/x not allowed by the grants of plugin "fetch"`},
	{"fetch", `{}`, false, `code 3: url is required`},
}

// bundledPlugins returns the committed .wasm files of plugins/ and
// examples/.
func bundledPlugins(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pattern := range []string{"../plugins/*/*.wasm", "../examples/*/*/*.wasm"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	if len(out) < 9 {
		t.Fatalf("found %d bundled plugins: %v", len(out), out)
	}
	return out
}

// bundledTranscript serves the plugin at path alone on h and makes every
// call of bundledCalls to its RPCs, then GET on each of its HTTP routes. It
// returns one line per call, with the answer, and fails the test when a
// registered RPC has no call in the table.
func bundledTranscript(t *testing.T, h *Host) string {
	t.Helper()
	ps := h.Plugins()
	if len(ps) != 1 {
		t.Fatalf("%d plugins loaded, want 1 (load errors: %v)", len(ps), h.LoadErrors())
	}
	var sb strings.Builder
	for _, r := range ps[0].RPCs() {
		n := 0
		for _, c := range bundledCalls {
			if c.rpc != r.ID {
				continue
			}
			n++
			req := &Request{ID: c.rpc, Payload: []byte(c.payload)}
			if c.user {
				req.User = &User{ID: "00000000-0000-4000-8000-000000000001", Username: "alice"}
			}
			res, err := h.Call(context.Background(), req)
			fmt.Fprintf(&sb, "%s user=%t %s -> %s\n", c.rpc, c.user, c.payload, answer(res, err))
		}
		if n == 0 {
			t.Errorf("plugin %s: RPC %s has no call in bundledCalls", ps[0].Name, r.ID)
		}
	}
	routes, _ := h.Routes()
	for _, r := range routes {
		req := &Request{HTTP: &HTTPRequest{Method: "GET", Path: r.Pattern, Route: r.Pattern}}
		res, err := h.CallRoute(context.Background(), r, req)
		fmt.Fprintf(&sb, "GET %s -> %d %s\n", r.Pattern, res.Status, answer(res, err))
	}
	return sb.String()
}

// answer renders a call's outcome: its output, or "code N: message".
func answer(res Result, err error) string {
	var ce *CallError
	if errors.As(err, &ce) {
		return fmt.Sprintf("code %d: %s", ce.Code, ce.Message)
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return string(res.Output)
}

// TestBundled_postgres serves each bundled plugin, unchanged, on SQLite and
// on PostgreSQL, and checks that every RPC gives the answer of
// bundledCalls, the same on both engines: their SQL is portable.
func TestBundled_postgres(t *testing.T) {
	want := map[string]string{}
	for _, c := range bundledCalls {
		want[fmt.Sprintf("%s user=%t %s", c.rpc, c.user, c.payload)] = c.want
	}
	for _, path := range bundledPlugins(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".wasm")
		t.Run(filepath.Dir(path)[3:], func(t *testing.T) {
			wasm, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, name+".wasm"), wasm, 0o644); err != nil {
				t.Fatal(err)
			}
			sqlite := bundledTranscript(t, newTestHost(t, dir, nil))
			postgres := bundledTranscript(t, newPostgresHost(t, dir))
			if postgres != sqlite {
				t.Errorf("answers differ\non SQLite:\n%s\non PostgreSQL:\n%s", sqlite, postgres)
			}
			for _, line := range strings.Split(strings.TrimSuffix(sqlite, "\n"), "\n") {
				call, got, _ := strings.Cut(line, " -> ")
				if w, ok := want[call]; ok && got != w {
					t.Errorf("%s -> %s, want %s", call, got, w)
				}
			}
		})
	}
}
