package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// logBuffer is a log destination safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// take returns what was logged since the last take.
func (l *logBuffer) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

// TestHost_Reload_logs checks what reloads log: nothing for a reload that
// changes nothing (the watcher's first poll), a failure once however many
// reloads meet it, "previous version keeps serving" only when one does,
// and a duplicate name once, naming both files.
func TestHost_Reload_logs(t *testing.T) {
	dir := t.TempDir()
	deploy(t, dir, "ver", fixture(t, "reload/ver_v1.wasm"))
	logs := &logBuffer{}
	h := newTestHost(t, dir, func(c *Config) { c.Logger = zerolog.New(logs) })
	logs.take()
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { h.Watch(ctx, 10*time.Millisecond); close(watched) }()
	time.Sleep(200 * time.Millisecond) // many polls, the first settled one reloads
	cancel()
	<-watched
	if got := logs.take(); got != "" {
		t.Fatalf("the watcher's no-op reloads logged %s", got)
	}

	deploy(t, dir, "broken", fixture(t, "bad/init_traps.wasm"))
	for range 3 {
		if _, err := h.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	got := logs.take()
	if n := strings.Count(got, `"plugin not loaded"`); n != 1 || strings.Contains(got, "previous version") {
		t.Fatalf("three reloads of a new broken plugin logged:\n%s\nwant one failure, without a previous version", got)
	}

	deploy(t, dir, "ver", fixture(t, "bad/init_traps.wasm"))
	if _, err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := logs.take(); !strings.Contains(got, "the previous version keeps serving") || !strings.Contains(got, `"plugin":"ver"`) {
		t.Fatalf("a broken version of a serving plugin logged:\n%s", got)
	}

	if err := os.Mkdir(filepath.Join(dir, "broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	deploy(t, dir, "broken/broken", fixture(t, "reload/ver_v2.wasm"))
	if err := os.Remove(filepath.Join(dir, "broken.wasm")); err != nil {
		t.Fatal(err)
	}
	deploy(t, dir, "broken", fixture(t, "reload/srv.wasm"))
	if _, err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	got = logs.take()
	want := "plugins " + filepath.Join(dir, "broken.wasm") + " and " + filepath.Join(dir, "broken", "broken.wasm") + ` have the same name \"broken\"`
	if strings.Count(got, "have the same name") != 1 || !strings.Contains(got, want) {
		t.Fatalf("a duplicate name logged:\n%s\nwant once: %s", got, want)
	}
}

// TestHost_Reload_callerGone reloads with a context that is already
// canceled, as when the client of POST /_warden/plugins hung up: the new
// version loads all the same.
func TestHost_Reload_callerGone(t *testing.T) {
	dir := t.TempDir()
	deploy(t, dir, "ver", fixture(t, "reload/ver_v1.wasm"))
	h := newTestHost(t, dir, nil)
	deploy(t, dir, "ver", fixture(t, "reload/ver_v2.wasm"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err := h.Reload(ctx); err != nil || len(res.Loaded) != 1 || len(res.Failed) != 0 {
		t.Fatalf("reload: %+v %v, want ver loaded", res, err)
	}
	if out, err := h.Call(context.Background(), &Request{ID: "ver"}); err != nil || string(out.Output) != "v2" {
		t.Fatalf("ver: %q %v, want v2", out.Output, err)
	}
}

// TestHost_Close_duringReload closes the host while a reload runs a
// plugin's init that never ends (the call timeout is a minute): Close
// cancels the load instead of waiting for it, and both return within
// seconds.
func TestHost_Close_duringReload(t *testing.T) {
	dir := t.TempDir()
	h := newTestHost(t, dir, func(c *Config) { c.CallTimeout = time.Minute })
	deploy(t, dir, "init_loops", fixture(t, "bad/init_loops.wasm"))
	reloaded := make(chan struct{})
	go func() {
		_, _ = h.Reload(context.Background()) // fails or finds the host closed: either is fine
		close(reloaded)
	}()
	time.Sleep(100 * time.Millisecond) // most likely inside the init; the test holds either way
	closed := make(chan error, 1)
	go func() { closed <- h.Close(context.Background()) }()
	for _, ch := range []<-chan struct{}{reloaded, waitErr(closed)} {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatal("Close or Reload did not return within 10s")
		}
	}
}

// waitErr returns a channel closed once ch yields.
func waitErr(ch <-chan error) <-chan struct{} {
	done := make(chan struct{})
	go func() { <-ch; close(done) }()
	return done
}
