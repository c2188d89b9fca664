package main

import (
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// TestServer_consoleOutboundLogShare checks that a plugin cannot empty
// the console's log ring through its outbound requests, as it cannot
// through its own log lines (TestServer_consoleLogShare): the outflood
// fixture sends 3000 requests to a granted server in two calls, each of
// them a line of the host's outbound log, and the echo plugin's load line
// must still be in the ring.
func TestServer_consoleOutboundLogShare(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer target.Close()
	dir := fixtureDir(t, "testdata/attacks/outflood.wasm", "../../plugins/echo/echo.wasm")
	if err := os.WriteFile(filepath.Join(dir, "outflood.toml"), []byte("[http]\nallow = [\""+target.URL+"\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, append(dataArgs(t, dir), "-console-password", "pw-outflood")...)
	payload := binary.LittleEndian.AppendUint32(nil, 1500)
	payload = append(payload, abi.EncodeHTTPRequest(abi.HTTPRequest{URL: target.URL + "/x"})...)
	for range 2 {
		res := do(t, "POST", s.URL+"/v2/rpc/outflood?unwrap&http_key="+testHTTPKey, string(payload), nil)
		if res.Status != 200 || len(res.Body) != 4 || binary.LittleEndian.Uint32([]byte(res.Body)) != 1500 {
			t.Fatalf("outflood: %d %q, want 1500 responses", res.Status, res.Body)
		}
	}

	cl, _ := consoleClient(t, s, "pw-outflood")
	lines := tailBacklog(t, cl, s, "plugin=echo")
	for _, l := range lines {
		if strings.Contains(l, `"plugin":"echo"`) && strings.Contains(l, `"message":"plugin loaded"`) {
			return
		}
	}
	t.Fatal("the plugin's outbound requests pushed echo's load line out of the console's log ring")
}
