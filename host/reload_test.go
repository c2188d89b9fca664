package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// deploy writes the fixture's bytes to dir/name.wasm the safe way: a
// temporary name, then a rename.
func deploy(t testing.TB, dir, name string, wasm []byte) {
	t.Helper()
	tmp := filepath.Join(dir, name+".wasm.tmp")
	if err := os.WriteFile(tmp, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name+".wasm")); err != nil {
		t.Fatal(err)
	}
}

// callRouteRouted calls the one route of h's only plugin as a caller of
// CallRoute must: it takes the route from Routes, and takes it again when
// a reload replaced it in between (RefusedReplaced), up to maxLookups times.
func callRouteRouted(h *Host, req *Request) (Result, error) {
	for range maxLookups {
		routes, _ := h.Routes()
		res, err := h.CallRoute(context.Background(), routes[0], req)
		if ce, ok := errors.AsType[*CallError](err); !ok || ce.Refused != RefusedReplaced {
			return res, err
		}
	}
	return Result{}, errors.New("replaced by reloads maxLookups times in a row")
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHost_Reload(t *testing.T) {
	dir := t.TempDir()
	v1, v2 := fixture(t, "reload/ver_v1.wasm"), fixture(t, "reload/ver_v2.wasm")
	deploy(t, dir, "ver", v1)
	h := newTestHost(t, dir, nil)
	ver := func() string {
		t.Helper()
		res, err := h.Call(context.Background(), &Request{ID: "ver"})
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Output)
	}
	reload := func() *ReloadResult {
		t.Helper()
		res, err := h.Reload(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	t.Run("OK", func(t *testing.T) {
		deploy(t, dir, "ver", v2)
		if res := reload(); len(res.Loaded) != 1 || len(res.Failed) != 0 {
			t.Fatalf("reload: %+v", res)
		}
		if got := ver(); got != "v2" {
			t.Fatalf("after reload got %q, want v2", got)
		}
	})
	t.Run("SameHashIsNoOp", func(t *testing.T) {
		before := h.Plugins()[0]
		if res := reload(); len(res.Loaded) != 0 || h.Plugins()[0] != before {
			t.Fatalf("reload of unchanged files replaced the plugin: %+v", res)
		}
	})
	t.Run("ErrBrokenVersionKeepsOld", func(t *testing.T) {
		deploy(t, dir, "ver", fixture(t, "bad/init_traps.wasm"))
		res := reload()
		if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Err.Error(), "warden_init") {
			t.Fatalf("reload of a broken version: %+v", res)
		}
		if got := ver(); got != "v2" {
			t.Fatalf("after a broken reload got %q, want the old v2", got)
		}
		if errs := h.LoadErrors(); len(errs) != 1 || errs[0].Plugin != "ver" || errs[0].Err == nil {
			t.Fatalf("LoadErrors() = %+v, want the broken version of ver", errs)
		}
	})
	t.Run("ErrHalfWrittenKeepsOld", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "ver.wasm"), v1[:len(v1)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		if res := reload(); len(res.Failed) != 1 {
			t.Fatalf("reload of a truncated file: %+v", res)
		}
		if got := ver(); got != "v2" {
			t.Fatalf("after a truncated reload got %q, want the old v2", got)
		}
	})
	t.Run("Removed", func(t *testing.T) {
		if err := os.Remove(filepath.Join(dir, "ver.wasm")); err != nil {
			t.Fatal(err)
		}
		if res := reload(); len(res.Removed) != 1 {
			t.Fatalf("reload after removal: %+v", res)
		}
		var ce *CallError
		if _, err := h.Call(context.Background(), &Request{ID: "ver"}); !errors.As(err, &ce) || ce.Code != 5 {
			t.Fatalf("call to a removed plugin: %v, want code 5", err)
		}
	})
}

// TestHost_Reload_hammer keeps RPC and HTTP-route calls going from many
// goroutines while the plugin is swapped between two versions 20 times and
// a broken and a half-written version are dropped in. No call may fail
// (an HTTP route's is routed again when a reload replaced its route, as
// httpapi does), every answer must come from one of the two versions, and
// afterwards no retired version may keep an instance or a goroutine.
func TestHost_Reload_hammer(t *testing.T) {
	dir := t.TempDir()
	versions := [][]byte{fixture(t, "reload/ver_v1.wasm"), fixture(t, "reload/ver_v2.wasm")}
	deploy(t, dir, "ver", versions[0])
	goroutines := runtime.NumGoroutine()
	h := newTestHost(t, dir, nil)

	var calls, failures atomic.Int64
	var failMsg atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var res Result
				var err error
				if (w+i)%2 == 0 {
					res, err = h.Call(context.Background(), &Request{ID: "ver"})
				} else {
					res, err = callRouteRouted(h, &Request{HTTP: &HTTPRequest{Method: "GET", Path: "/ver", Route: "/ver"}})
				}
				calls.Add(1)
				if err != nil || (string(res.Output) != "v1" && string(res.Output) != "v2") {
					failures.Add(1)
					failMsg.Store(fmt.Sprintf("%v %v", res, err))
				}
			}
		}()
	}
	seen := map[*Plugin]bool{}
	for i := range 20 {
		deploy(t, dir, "ver", versions[(i+1)%2])
		if res, err := h.Reload(context.Background()); err != nil || len(res.Failed) != 0 {
			t.Fatalf("reload %d: %+v %v", i, res, err)
		}
		seen[h.Plugins()[0]] = true
		if i == 7 {
			deploy(t, dir, "ver", fixture(t, "bad/init_traps.wasm"))
			if res, _ := h.Reload(context.Background()); len(res.Failed) != 1 {
				t.Fatalf("broken version was not refused: %+v", res)
			}
		}
		if i == 13 {
			_ = os.WriteFile(filepath.Join(dir, "ver.wasm"), versions[0][:100], 0o644)
			if res, _ := h.Reload(context.Background()); len(res.Failed) != 1 {
				t.Fatalf("half-written version was not refused: %+v", res)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if f := failures.Load(); f != 0 {
		t.Fatalf("%d of %d calls failed during reloads, last: %v", f, calls.Load(), failMsg.Load())
	}
	t.Logf("%d calls, 0 failures, across 22 reloads", calls.Load())

	h.retiring.Wait()
	current := h.Plugins()[0]
	for p := range seen {
		if p != current && p.Instances() != 0 {
			t.Errorf("retired version %s keeps %d instances", p.Version, p.Instances())
		}
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	const dbGoroutines = 3 // the open database's: two pool openers and the group committer
	// A poll, generous for a loaded machine.
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > goroutines+dbGoroutines && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines+dbGoroutines {
		t.Fatalf("%d goroutines after close, %d before the host started", n, goroutines)
	}
}

// TestHost_Watch checks that the watcher reloads a changed plugin once its
// file has settled.
func TestHost_Watch(t *testing.T) {
	dir := t.TempDir()
	deploy(t, dir, "ver", fixture(t, "reload/ver_v1.wasm"))
	h := newTestHost(t, dir, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Watch(ctx, 20*time.Millisecond)
	deploy(t, dir, "ver", fixture(t, "reload/ver_v2.wasm"))
	if !answersWithin(h, "ver", "v2", 10*time.Second) {
		t.Fatal("the watcher did not load v2 within 10s")
	}
}

// answersWithin reports whether the RPC id answers want within d.
func answersWithin(h *Host, id, want string, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if res, err := h.Call(context.Background(), &Request{ID: id}); err == nil && string(res.Output) == want {
			return true
		}
	}
	return false
}

// TestHost_Reload_refusals drops in new plugins that must be refused on
// reload, while what served keeps serving: one that registers an RPC
// another plugin has, and one that imports a function the ABI lacks.
func TestHost_Reload_refusals(t *testing.T) {
	dir := t.TempDir()
	deploy(t, dir, "dup_a", fixture(t, "bad/dup_a.wasm"))
	h := newTestHost(t, dir, nil)
	tests := []struct {
		name, file, fixture, want string
	}{
		{"ErrConflict", "dup_b", "bad/dup_b.wasm", `rpc "same" is registered by both plugin dup_a and plugin dup_b`},
		{"ErrUnknownImport", "unknown_import", "bad/unknown_import.wasm", "imports warden_v1.db_foo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deploy(t, dir, tt.file, fixture(t, tt.fixture))
			defer os.Remove(filepath.Join(dir, tt.file+".wasm"))
			res, err := h.Reload(context.Background())
			if err != nil || len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Err.Error(), tt.want) {
				t.Fatalf("reload: %+v %v, want a failure containing %q", res, err, tt.want)
			}
			if _, err := h.Call(context.Background(), &Request{ID: "same"}); err != nil {
				t.Fatalf("dup_a stopped serving: %v", err)
			}
			if n := len(h.Plugins()); n != 1 {
				t.Fatalf("%d plugins serve, want only dup_a", n)
			}
		})
	}
}

// TestHost_Watch_notStarvedByAChangingFile: a file that never stops
// changing (here rewritten every few milliseconds; in the review, a
// symlink in the folder to the plugin's own SQLite WAL, which its calls
// grow) does not keep the watcher from loading another file's settled
// change. Before, the watcher waited for the whole folder to settle, and
// one plugin's author could stop everyone's deploys by file copy.
func TestHost_Watch_notStarvedByAChangingFile(t *testing.T) {
	dir := t.TempDir()
	deploy(t, dir, "ver", fixture(t, "reload/ver_v1.wasm"))
	h := newTestHost(t, dir, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	noise := filepath.Join(dir, "noise.wasm")
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; ctx.Err() == nil; i++ {
			_ = os.WriteFile(noise, make([]byte, i%1000), 0o644)
			runtime.Gosched()
		}
	}()
	defer func() { cancel(); <-stopped }()
	go h.Watch(ctx, 50*time.Millisecond)
	deploy(t, dir, "ver", fixture(t, "reload/ver_v2.wasm"))
	if !answersWithin(h, "ver", "v2", 10*time.Second) {
		t.Fatal("the watcher did not load v2 within 10s while another file kept changing")
	}
}
