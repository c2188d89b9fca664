package main

import (
	"bufio"
	"encoding/binary"
	"net/http"
	"strings"
	"testing"
)

// TestServer_consoleLogShare checks that one plugin's log flood cannot
// empty the console's log ring: after the logflood fixture logs its whole
// budget's burst (5000 lines, more than the ring's 2000), the echo
// plugin's load line is still in the tail's backlog, and the ring says how
// many of the flood's lines it did not keep.
func TestServer_consoleLogShare(t *testing.T) {
	dir := fixtureDir(t, "../../host/testdata/logflood.wasm", "../../plugins/echo/echo.wasm")
	s := startServer(t, append(dataArgs(t, dir), "-console-password", "pw-share")...)
	var payload [16]byte // level info, 16-byte messages, 5000 lines
	binary.LittleEndian.PutUint32(payload[0:], 1)
	binary.LittleEndian.PutUint32(payload[4:], 16)
	binary.LittleEndian.PutUint32(payload[8:], 5000)
	res := do(t, "POST", s.URL+"/v2/rpc/log?unwrap&http_key="+testHTTPKey, string(payload[:]), nil)
	if res.Status != 200 || len(res.Body) != 8 || binary.LittleEndian.Uint32([]byte(res.Body)) != 5000 {
		t.Fatalf("flood: %d %q, want 5000 lines logged", res.Status, res.Body)
	}

	cl, _ := consoleClient(t, s, "pw-share")
	echoLines := tailBacklog(t, cl, s, "plugin=echo")
	loaded := false
	for _, l := range echoLines {
		if strings.Contains(l, `"plugin":"echo"`) && strings.Contains(l, `"message":"plugin loaded"`) {
			loaded = true
		}
	}
	if !loaded {
		t.Fatalf("the flood pushed echo's load line out of the ring; echo's backlog: %q", echoLines)
	}
	floodLines := tailBacklog(t, cl, s, "plugin=logflood")
	notice := false
	for _, l := range floodLines {
		if strings.Contains(l, `"level":"warn"`) && strings.Contains(l, "not kept") {
			notice = true
		}
	}
	if !notice {
		t.Fatalf("no notice of the flood's lines left out of the ring in %d lines: %q", len(floodLines), floodLines[len(floodLines)-3:])
	}
}

// tailBacklog opens a console log tail with filter and returns its
// backlog (the ring's last 200 matching lines): all 200, or those before
// the access line of a call to echo made once the tail is open.
func tailBacklog(t *testing.T, cl *http.Client, s *server, filter string) []string {
	t.Helper()
	res := openTail(t, cl, s, "level=debug&"+filter)
	defer res.Body.Close()
	if r := do(t, "POST", s.URL+"/v2/rpc/echo?unwrap&http_key="+testHTTPKey, "end-of-backlog", nil); r.Status != 200 {
		t.Fatalf("echo: %d %s", r.Status, r.Body)
	}
	var lines []string
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if strings.Contains(data, `"path":"/v2/rpc/echo"`) && strings.Contains(data, `"message":"request"`) {
			return lines
		}
		if lines = append(lines, data); len(lines) == 200 {
			return lines
		}
	}
	t.Fatalf("tail ended: %v", sc.Err())
	return nil
}
