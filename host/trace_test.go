package host

import (
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// countingTracer is a Tracer that counts how often it is asked.
type countingTracer struct {
	id    string
	asked int
}

func (c *countingTracer) TraceID() string {
	c.asked++
	return c.id
}

// TestHost_Call_traceOnDemand checks that the host asks a request's Tracer
// for the trace ID only when a plugin needs it, through the Rust
// conformance plugin: its echo neither logs nor reads the context and
// costs the request no ID; its ctx RPC reads trace_id and gets it, or
// finds none when the request has no Tracer; its log RPC's lines carry it
// as trace_id.
func TestHost_Call_traceOnDemand(t *testing.T) {
	logs := &logBuffer{}
	dir := t.TempDir()
	deploy(t, dir, "conformance", fixture(t, "../../conformance/rust/conformance.wasm"))
	h := newTestHost(t, dir, func(c *Config) { c.Logger = zerolog.New(logs).Level(zerolog.DebugLevel) })
	ctx := context.Background()

	tr := &countingTracer{id: "trace-echo"}
	if _, err := h.Call(ctx, &Request{ID: "echo", Payload: []byte("x"), Trace: tr}); err != nil {
		t.Fatal(err)
	}
	if tr.asked != 0 {
		t.Errorf("echo: the Tracer was asked %d times, want 0", tr.asked)
	}

	tr = &countingTracer{id: "trace-ctx"}
	res, err := h.Call(ctx, &Request{ID: "ctx", Trace: tr})
	if err != nil {
		t.Fatal(err)
	}
	if tr.asked == 0 || !strings.Contains(string(res.Output), "trace_id=<present>") {
		t.Errorf("ctx: asked %d times, output %q: want trace_id=<present>", tr.asked, res.Output)
	}

	res, err = h.Call(ctx, &Request{ID: "ctx"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Output), "trace_id=<absent>") {
		t.Errorf("ctx without a Tracer: output %q, want trace_id=<absent>", res.Output)
	}

	logs.take()
	tr = &countingTracer{id: "trace-log"}
	if _, err := h.Call(ctx, &Request{ID: "log", Payload: []byte("hi"), Trace: tr}); err != nil {
		t.Fatal(err)
	}
	got := logs.take()
	if n := strings.Count(got, `"trace_id":"trace-log"`); n != 4 {
		t.Errorf("log: %d lines carry the trace ID, want the 4 the RPC logs:\n%s", n, got)
	}
}
