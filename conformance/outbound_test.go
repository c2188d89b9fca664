package conformance

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// envHTTPBase is the env entry that gives the http RPC its server's base
// URL, which changes with each run and so stays out of the transcript.
const envHTTPBase = "CONF_HTTP_BASE"

// outboundManifest grants the plugin the runner's server on 127.0.0.1, on
// any port, and nothing else (SPEC.md, http).
const outboundManifest = `[http]
allow = ["http://127.0.0.1:*"]
`

// startOutbound starts the server that the http RPC calls and returns its
// base URL. It answers every request with two X-Reply headers and a body
// that describes the request: 404 for /missing, 201 for other POSTs, 200
// otherwise.
func startOutbound(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		status := http.StatusOK
		switch {
		case r.URL.Path == "/missing":
			status = http.StatusNotFound
		case r.Method == http.MethodPost:
			status = http.StatusCreated
		}
		w.Header().Add("X-Reply", "one")
		w.Header().Add("X-Reply", "two")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "method=%s path=%s x-conformance=%s content-type=%s body=%s",
			r.Method, r.URL.RequestURI(), r.Header.Get("X-Conformance"), r.Header.Get("Content-Type"), body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// writeManifest writes the plugin's manifest beside its .wasm in dir.
func writeManifest(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, pluginName+".toml"), []byte(outboundManifest), 0o644); err != nil {
		t.Fatal(err)
	}
}
