package main

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/session"
)

// The attack of TestServer_sandbox on the request's trace ID, which the host
// makes only when something first asks for it (RATIONALE.md, "A request
// makes its trace ID when something asks for it").

// Attack 16: the tracer plugin asks for the trace ID with short buffers
// and ranges outside its memory, scribbles over its copy and asks again,
// and logs; the client sends a trace ID of its own in a header and the
// query. The ID must be one, the server's own (a UUID the client did not
// choose), written only into a buffer that holds it whole, the same in
// the plugin's copies, its log line and the access log, and new for the
// next request.
func testTraceID(t *testing.T, a *arena) {
	tg := a.start(t, []string{bundled("echo"), attack("tracer")}, "-access-log=true", "-log-level", "info", "-watch", "0")
	const forged = "00000000-0000-4000-8000-000000000000"
	ids := make([]string, 2)
	for i := range ids {
		res, err := send("POST", tg.base+"/v2/rpc/tracer?unwrap&trace_id="+forged+"&http_key="+testHTTPKey, "",
			map[string]string{"X-Trace-Id": forged, "Trace-Id": forged, "X-Request-Id": forged}, 30*time.Second)
		if err != nil || res.Status != 200 || len(res.Body) != 7*8+36+36 {
			t.Fatalf("tracer: %d %q %v, want 200 and 128 bytes", res.Status, res.Body, err)
		}
		b := []byte(res.Body)
		results := make([]int64, 7)
		for j := range results {
			results[j] = int64(binary.LittleEndian.Uint64(b[8*j:]))
		}
		inv := int64(abi.StatusInvalidMemory)
		if want := []int64{36, 36, inv, inv, 36, 36, int64(abi.StatusOK)}; !slices.Equal(results, want) {
			t.Errorf("ctx_get and log results %v, want %v (length only, one byte short, past the end, at -1, whole, again, log)", results, want)
		}
		if canary := string(b[56:92]); canary != strings.Repeat("A", 36) {
			t.Errorf("the buffer one byte too short was written to: %q", canary)
		}
		id := string(b[92:])
		if !session.IsUUID(id) || id[14] != '4' || id == forged {
			t.Fatalf("the plugin's trace ID %q: want a version 4 UUID of the server's own", id)
		}
		ids[i] = id
		// The access log is flushed on an interval: wait for the line.
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(tg.p.logs.String(), `"req_id":"`+id+`"`); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no access log line with req_id %s; logs:\n%s", id, tg.p.logs.String())
			}
		}
		logs := tg.p.logs.String()
		if n := strings.Count(logs, `"req_id":"`+id+`"`); n != 1 {
			t.Errorf("req_id %s is in %d access log lines, want 1", id, n)
		}
		var pluginLine string
		for line := range strings.SplitSeq(logs, "\n") {
			if strings.Contains(line, "tracer was here") && strings.Contains(line, `"trace_id":"`+id+`"`) {
				pluginLine = line
			}
		}
		if pluginLine == "" {
			t.Errorf("no plugin log line with trace_id %s; logs:\n%s", id, logs)
		}
	}
	if ids[0] == ids[1] {
		t.Errorf("two requests had the same trace ID %s", ids[0])
	}
	tg.alive(t)
}
