package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestServer_fetchExample serves examples/rust/fetch with its manifest,
// which grants http://127.0.0.1:* only, and calls a local server through
// it: an allowed request answers with the server's status, headers and
// body; a URL the grants refuse, and a granted port where nothing listens,
// fail with a clear error and the server stays up.
func TestServer_fetchExample(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Add("X-Reply", "one")
		w.Header().Add("X-Reply", "two")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, "%s %s token=%s body=%s", r.Method, r.URL.RequestURI(), r.Header.Get("X-Token"), body)
	}))
	t.Cleanup(upstream.Close)
	dir := fixtureDir(t, "../../examples/rust/fetch/fetch.wasm", "../../examples/rust/fetch/fetch.toml")
	s := startServer(t, append(dataArgs(t, dir), "-access-log=false")...)
	call := func(req map[string]any) response {
		t.Helper()
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		return do(t, "POST", s.URL+"/v2/rpc/fetch?unwrap&http_key="+testHTTPKey, string(b), nil)
	}

	t.Run("OK", func(t *testing.T) {
		res := call(map[string]any{"url": upstream.URL + "/items?id=7", "method": "PUT",
			"headers": map[string]string{"X-Token": "t1"}, "body": "héllo"})
		var got struct {
			Status  int
			Headers map[string]string
			Body    string
		}
		if res.Status != 200 || json.Unmarshal([]byte(res.Body), &got) != nil {
			t.Fatalf("fetch = %d %s, want 200 and JSON", res.Status, res.Body)
		}
		if got.Status != 202 || got.Body != "PUT /items?id=7 token=t1 body=héllo" || got.Headers["x-reply"] != "one, two" {
			t.Errorf("fetch answered %+v", got)
		}
	})
	t.Run("ErrNotGranted", func(t *testing.T) {
		res := call(map[string]any{"url": "http://example.com/secret?key=1"})
		if res.Status != 403 || !strings.Contains(res.Body, "not allowed by the grants") ||
			!strings.Contains(res.Body, "example.com") || strings.Contains(res.Body, "key=1") {
			t.Errorf("refused URL = %d %s, want 403 naming the URL without its query", res.Status, res.Body)
		}
	})
	t.Run("ErrHTTPFailed", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + l.Addr().String() + "/"
		l.Close()
		res := call(map[string]any{"url": closed})
		if res.Status != 503 || !strings.Contains(res.Body, "HTTP_FAILED") {
			t.Errorf("closed port = %d %s, want 503 HTTP_FAILED", res.Status, res.Body)
		}
	})
	t.Run("ErrNoURL", func(t *testing.T) {
		if res := call(map[string]any{"method": "GET"}); res.Status != 400 || !strings.Contains(res.Body, "url is required") {
			t.Errorf("no url = %d %s, want 400", res.Status, res.Body)
		}
	})
	// The server still serves after the failures.
	if res := call(map[string]any{"url": upstream.URL + "/again"}); res.Status != 200 {
		t.Errorf("after the failures: %d %s", res.Status, res.Body)
	}
}
