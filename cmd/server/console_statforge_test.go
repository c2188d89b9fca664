package main

import (
	"encoding/binary"
	"encoding/json"
	"testing"
)

// TestServer_consoleStatusNotForgedByPluginLogs checks that a plugin
// cannot inflate the status page's request figures: the statforger
// fixture logs the message "request" (and writes it to stdout), whose
// lines end as an access log line does, 400 times in one call; the
// status page must count the one request that call was, not its lines.
func TestServer_consoleStatusNotForgedByPluginLogs(t *testing.T) {
	dir := fixtureDir(t, "testdata/attacks/statforger.wasm")
	s := startServer(t, append(dataArgs(t, dir), "-console-password", "pw-forge")...)
	cl, _ := consoleClient(t, s, "pw-forge")
	requests := func() int64 {
		t.Helper()
		status, body := consoleDo(t, cl, s, "GET", "status", "", "")
		var st struct {
			Requests struct {
				Total struct {
					Requests int64 `json:"requests"`
				} `json:"total"`
			} `json:"requests"`
		}
		if status != 200 || json.Unmarshal([]byte(body), &st) != nil {
			t.Fatalf("status: %d %s", status, body)
		}
		return st.Requests.Total.Requests
	}
	before := requests()
	var payload [4]byte
	binary.LittleEndian.PutUint32(payload[:], 400)
	res := do(t, "POST", s.URL+"/v2/rpc/forge?unwrap&http_key="+testHTTPKey, string(payload[:]), nil)
	if res.Status != 200 || len(res.Body) != 4 || binary.LittleEndian.Uint32([]byte(res.Body)) != 400 {
		t.Fatalf("forge: %d %q, want 400 lines logged", res.Status, res.Body)
	}
	// The forge call and the status read before it: a few requests, not
	// hundreds.
	if got := requests() - before; got > 5 {
		t.Fatalf("the status page counted %d requests for one RPC call: the plugin's log lines count as requests", got)
	}
}
