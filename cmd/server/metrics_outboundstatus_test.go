package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// TestServer_metricsOutboundStatusesBounded is an attack on the metrics:
// a plugin granted a server of its author's, which answers whatever status
// the path names, asks it for every status 200..999, each a series of
// warden_plugin_outbound_requests_total kept for good. Statuses net/http
// does not name count under their class, as a route's do.
func TestServer_metricsOutboundStatusesBounded(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.WriteHeader(n)
	}))
	defer target.Close()
	dir := fixtureDir(t, "../../host/testdata/fetch.wasm")
	if err := os.WriteFile(filepath.Join(dir, "fetch.toml"), []byte("[http]\nallow = [\""+target.URL+"\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, append(dataArgs(t, dir), "-metrics-addr", "127.0.0.1:0")...)
	murl := metricsURL(t, s)
	for status := 200; status < 1000; status++ {
		req := abi.EncodeHTTPRequest(abi.HTTPRequest{URL: target.URL + "/" + strconv.Itoa(status)})
		if res := do(t, "POST", s.URL+"/v2/rpc/fetch?unwrap&http_key="+testHTTPKey, string(req), nil); res.Status != 200 || !strings.HasPrefix(res.Body, "\x00") {
			t.Fatalf("fetch %d: %d %q", status, res.Status, res.Body)
		}
	}
	series := 0
	for k := range scrape(t, murl) {
		if strings.HasPrefix(k, `warden_plugin_outbound_requests_total{grant="`+target.URL+`",plugin="fetch"`) {
			series++
		}
	}
	if series == 0 || series > 70 {
		t.Fatalf("warden_plugin_outbound_requests_total has %d series for one grant, want 1..70: a plugin mints a series per status its server answers", series)
	}
}
