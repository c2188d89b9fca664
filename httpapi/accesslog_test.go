package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// stalledWriter blocks every Write until release is closed, as a full pipe
// whose reader went away would, and keeps what it was given.
type stalledWriter struct {
	release chan struct{}
	buf     syncBuffer
}

func (w *stalledWriter) Write(p []byte) (int, error) {
	<-w.release
	return w.buf.Write(p)
}

func TestLineBuffer_Write(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		var out syncBuffer
		b := newLineBuffer(&out, zerolog.Nop(), accessMaxBytes)
		for i := range 100 {
			fmt.Fprintf(b, "{\"n\":%d}\n", i)
		}
		b.Close()
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 100 {
			t.Fatalf("%d lines written, want 100", len(lines))
		}
		for i, l := range lines { // in order, whole
			if l != fmt.Sprintf(`{"n":%d}`, i) {
				t.Fatalf("line %d = %q", i, l)
			}
		}
		fmt.Fprintf(b, "{\"n\":100}\n") // after Close: written directly
		if !strings.HasSuffix(out.String(), "{\"n\":100}\n") {
			t.Fatal("a line written after Close was lost")
		}
	})
	t.Run("Full", func(t *testing.T) {
		// Out is stalled: writes must not block, lines past the bound are
		// dropped, and the count is logged once out moves again.
		out := &stalledWriter{release: make(chan struct{})}
		var warn syncBuffer
		b := newLineBuffer(out, zerolog.New(&warn), 1024)
		line := strings.Repeat("x", 99) + "\n"
		const n = 200
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			for range n {
				if _, err := b.Write([]byte(line)); err != nil {
					t.Error(err)
				}
			}
		}()
		select {
		case <-wrote:
		case <-time.After(30 * time.Second):
			t.Fatal("Write blocked on a stalled output")
		}
		close(out.release)
		b.Close()
		kept := strings.Count(out.buf.String(), line)
		var entry struct {
			Level, Message string
			Lines          int
		}
		if err := json.Unmarshal([]byte(warn.String()), &entry); err != nil {
			t.Fatalf("warn log %q: %v", warn.String(), err)
		}
		if entry.Level != "warn" || entry.Lines == 0 || kept+entry.Lines != n {
			t.Fatalf("%d lines kept, warn log %+v: want some dropped and %d in all", kept, entry, n)
		}
	})
}

// TestServer_accessLogBuffered checks that with AccessLogOutput every
// request's line is written, whole, by the time Shutdown returns.
func TestServer_accessLogBuffered(t *testing.T) {
	var out syncBuffer
	s := serve(t, Config{Logger: zerolog.New(&out), AccessLog: true, AccessLogOutput: &out, Caller: echo()})
	const n = 300
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := w; i < n; i += 6 {
				if got := do(t, s, "POST", "/v2/rpc/echo?unwrap&http_key="+testHTTPKey, nil, "x"); got.status != 200 {
					t.Errorf("status %d", got.status)
				}
			}
		})
	}
	wg.Wait()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	count := 0
	for l := range strings.Lines(out.String()) {
		var entry struct{ Message, ReqID, Path, Plugin string }
		if err := json.Unmarshal([]byte(l), &entry); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if entry.Message == "request" && entry.Path == "/v2/rpc/echo" && entry.Plugin == "echo@1.0.0" {
			count++
		}
	}
	if count != n {
		t.Fatalf("%d access log lines for %d requests", count, n)
	}
}

// TestServer_accessLogFast checks the access log's own encoder through a
// real server with cmd/server's logger: it is on, its lines carry every
// field in zerolog's order with zerolog's escapes, and a logger it cannot
// reproduce (a hook adding a field) is still logged, by zerolog.
func TestServer_accessLogFast(t *testing.T) {
	const target = "/a%22b%5C%01%FF%7F%E2%82%AC"
	const wantPath = `"path":"/a\"b\\\u0001\ufffd\u007f€","status":404,"size":`
	hook := zerolog.HookFunc(func(e *zerolog.Event, _ zerolog.Level, _ string) { e.Str("hooked", "yes") })
	for _, tc := range []struct {
		name string
		log  func(io.Writer) zerolog.Logger
		fast bool
		want string
	}{
		{"Encoder", func(w io.Writer) zerolog.Logger {
			return zerolog.New(w).With().Timestamp().Str("node", "warden").Logger()
		}, true, `{"level":"info","node":"warden","component":"httpapi","req_id":"`},
		{"Zerolog", func(w io.Writer) zerolog.Logger {
			return zerolog.New(w).With().Timestamp().Logger().Hook(hook)
		}, false, `"hooked":"yes",`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out syncBuffer
			s := serve(t, Config{Logger: tc.log(&out), AccessLog: true, AccessLogOutput: &out, Caller: echo()})
			if fast := s.accessBuf.enc != nil; fast != tc.fast {
				t.Fatalf("fast path %v, want %v", fast, tc.fast)
			}
			t0 := time.Now().Truncate(time.Second)
			do(t, s, "GET", target, nil, "")
			do(t, s, "POST", "/v2/rpc/echo?unwrap&http_key="+testHTTPKey, nil, "x")
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			t1 := time.Now()
			var lines []string
			for l := range strings.Lines(out.String()) {
				if strings.HasSuffix(l, `"message":"request"}`+"\n") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 2 || !strings.Contains(lines[0], wantPath) || !strings.Contains(lines[1], `"plugin":"echo@1.0.0"`) {
				t.Fatalf("access log:\n%s", out.String())
			}
			for _, l := range lines {
				var entry struct {
					Time     time.Time
					Duration float64
					Message  string
				}
				if err := json.Unmarshal([]byte(l), &entry); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
				if !strings.Contains(l, tc.want) || entry.Message != "request" || entry.Duration <= 0 ||
					entry.Time.Before(t0) || entry.Time.After(t1) {
					t.Fatalf("line %q: want %q, a positive duration, a time in [%v, %v]", l, tc.want, t0, t1)
				}
			}
		})
	}
}
