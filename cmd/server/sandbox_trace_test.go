package main

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/session"
)

// The attacks of TestServer_sandbox on the request's trace ID, which the
// host makes only when something first asks for it (RATIONALE.md, "A
// request makes its trace ID when something asks for it").

// forgedTrace is the trace ID the attacking client sends in headers and
// the query, hoping that the server takes it for its own.
const forgedTrace = "00000000-0000-4000-8000-000000000000"

// Attack 16: the tracer plugin asks for the trace ID with short buffers
// and ranges outside its memory, scribbles over its copy and asks again,
// and logs; the client sends a trace ID of its own in a header and the
// query. The ID must be one, the server's own (a UUID the client did not
// choose), written only into a buffer that holds it whole, the same in
// the plugin's copies, its log line and the access log, and new for the
// next request.
func testTraceID(t *testing.T, a *arena) {
	tg := startTracer(t, a)
	ids := make([]string, 2)
	for i := range ids {
		id, err := traceRequest(tg)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
		waitTraceLogged(t, tg, []string{id})
	}
	if ids[0] == ids[1] {
		t.Errorf("two requests had the same trace ID %s", ids[0])
	}
	tg.alive(t)
}

// Attack 17: the same requests, 32 at once, so that pooled instances, the
// host's call state and the server's per-request memory serve one request
// after another and side by side. An ID that leaked from one request to
// the next (an instance's or a writer's leftover) would show as an ID seen
// twice, or as a request whose plugin and access log disagree.
func testTraceIDConcurrent(t *testing.T, a *arena) {
	tg := startTracer(t, a)
	const n = 32
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ids[i], errs[i] = traceRequest(tg) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("trace ID %s was given to two of %d concurrent requests", id, n)
		}
		seen[id] = true
	}
	waitTraceLogged(t, tg, ids)
	tg.alive(t)
}

// startTracer starts a server with the tracer attack plugin, the access
// log and info logs on, so that both carry the trace ID.
func startTracer(t *testing.T, a *arena) *target {
	t.Helper()
	return a.start(t, []string{bundled("echo"), attack("tracer")}, "-access-log=true", "-log-level", "info", "-watch", "0")
}

// traceRequest calls the tracer RPC with forged trace IDs and checks what
// the plugin saw: the lengths and statuses of its seven host calls, the
// canary under its short buffer, and a version 4 UUID of the server's own.
// It returns that ID. It reports instead of failing, so that goroutines
// may call it.
func traceRequest(tg *target) (string, error) {
	res, err := send("POST", tg.base+"/v2/rpc/tracer?unwrap&trace_id="+forgedTrace+"&http_key="+testHTTPKey, "",
		map[string]string{"X-Trace-Id": forgedTrace, "Trace-Id": forgedTrace, "X-Request-Id": forgedTrace}, 30*time.Second)
	if err != nil || res.Status != 200 || len(res.Body) != 7*8+36+36 {
		return "", fmt.Errorf("tracer: %d %q %v, want 200 and 128 bytes", res.Status, res.Body, err)
	}
	b := []byte(res.Body)
	results := make([]int64, 7)
	for j := range results {
		results[j] = int64(binary.LittleEndian.Uint64(b[8*j:]))
	}
	inv := int64(abi.StatusInvalidMemory)
	if want := []int64{36, 36, inv, inv, 36, 36, int64(abi.StatusOK)}; !slices.Equal(results, want) {
		return "", fmt.Errorf("ctx_get and log results %v, want %v (length only, one byte short, past the end, at -1, whole, again, log)", results, want)
	}
	if canary := string(b[56:92]); canary != strings.Repeat("A", 36) {
		return "", fmt.Errorf("the buffer one byte too short was written to: %q", canary)
	}
	id := string(b[92:])
	if !session.IsUUID(id) || id[14] != '4' || id == forgedTrace {
		return "", fmt.Errorf("the plugin's trace ID %q: want a version 4 UUID of the server's own", id)
	}
	return id, nil
}

// waitTraceLogged waits for the access log (flushed on an interval) to
// hold a line for each of ids, then checks that each ID is in exactly one
// access log line and in the tracer's own log line.
func waitTraceLogged(t *testing.T, tg *target, ids []string) {
	t.Helper()
	logged := func(logs string) bool {
		for _, id := range ids {
			if !strings.Contains(logs, `"req_id":"`+id+`"`) {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(10 * time.Second); !logged(tg.p.logs.String()); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no access log line for some of the trace IDs %v; logs:\n%s", ids, tg.p.logs.String())
		}
	}
	logs := tg.p.logs.String()
	for _, id := range ids {
		if n := strings.Count(logs, `"req_id":"`+id+`"`); n != 1 {
			t.Errorf("req_id %s is in %d access log lines, want 1", id, n)
		}
		plugin := 0
		for line := range strings.SplitSeq(logs, "\n") {
			if strings.Contains(line, "tracer was here") && strings.Contains(line, `"trace_id":"`+id+`"`) {
				plugin++
			}
		}
		if plugin != 1 {
			t.Errorf("%d plugin log lines carry trace_id %s, want 1; logs:\n%s", plugin, id, logs)
		}
	}
}
