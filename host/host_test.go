package host

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// testCacheDir is a compilation cache shared by the tests of this package,
// so that each plugin is compiled once per run (the Go plugin takes
// seconds under -race).
var testCacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "warden-host-cache-")
	if err != nil {
		panic(err)
	}
	testCacheDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// pluginDir copies the named .wasm fixtures (paths relative to testdata)
// into a fresh directory.
func pluginDir(t testing.TB, fixtures ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range fixtures {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// newTestHost starts a Host over dir with real SQLite databases, one file
// per plugin.
func newTestHost(t testing.TB, dir string, edit func(*Config)) *Host {
	t.Helper()
	ctx := context.Background()
	dbs, err := storage.OpenDir(filepath.Join(t.TempDir(), "db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dbs.Close() })
	cfg := Config{
		PluginDir: dir,
		CacheDir:  testCacheDir,
		Databases: dbs,
		Logger:    zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel),
	}
	if edit != nil {
		edit(&cfg)
	}
	h, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}

func newTestLogger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t))
}

// callErr runs req and returns its *CallError, failing the test on success.
func callErr(t *testing.T, h *Host, req *Request) *CallError {
	t.Helper()
	_, err := h.Call(context.Background(), req)
	var ce *CallError
	if !errors.As(err, &ce) {
		t.Fatalf("Call(%s) error = %v, want a *CallError", req.ID, err)
	}
	return ce
}

func TestHost_Call(t *testing.T) {
	// Only the loop needs a short deadline; the other calls keep a generous
	// one, so that a loaded machine cannot turn them into code 4.
	h := newTestHost(t, pluginDir(t, "hostile.wasm"), func(c *Config) {
		c.CallTimeout = time.Minute
		c.MaxMemoryPages = 64
	})
	short := newTestHost(t, pluginDir(t, "hostile.wasm"), func(c *Config) {
		c.CallTimeout = 300 * time.Millisecond
		c.MaxMemoryPages = 64
	})
	user := &User{ID: "8f4e6a52-3b1c-4c1e-9d59-5c3f0a3b7e21", Username: "alice"}

	t.Run("OK", func(t *testing.T) {
		res, err := h.Call(context.Background(), &Request{ID: "ECHO", Payload: []byte("héllo")})
		if err != nil {
			t.Fatal(err)
		}
		if string(res.Output) != "héllo" || res.Plugin != "hostile" || len(res.Version) != 12 {
			t.Fatalf("got %q from %s@%s", res.Output, res.Plugin, res.Version)
		}
	})
	// A refusal has no message (the API words it) and names the plugin it
	// refused to run, if any; a plugin's failure names the plugin always.
	tests := []struct {
		name        string
		req         *Request
		wantCode    abi.Code
		wantRefused Refusal
		wantMsg     string
	}{
		{"ErrNotFound", &Request{ID: "nope"}, abi.CodeNotFound, RefusedNotFound, ""},
		{"ErrTrap", &Request{ID: "trap"}, abi.CodeInternal, NotRefused, "plugin trapped: wasm error: unreachable"},
		{"ErrLoop", &Request{ID: "loop"}, abi.CodeDeadlineExceeded, NotRefused, "rpc exceeded its deadline"},
		{"ErrPanic", &Request{ID: "panic"}, abi.CodeInternal, NotRefused, "panic: boom at hostile.wat"},
		{"ErrPanicOutOfBounds", &Request{ID: "panic_oob"}, abi.CodeInternal, NotRefused, "panic: (panic message out of bounds)"},
		{"ErrServerOnly", &Request{ID: "server_only", User: user}, abi.CodePermissionDenied, RefusedServerOnly, ""},
		{"ErrPluginCode", &Request{ID: "fail", Payload: []byte("123456")}, abi.CodeAlreadyExists, NotRefused, "failed on purpose"},
		{"ErrPluginCodeOutOfRange", &Request{ID: "fail", Payload: make([]byte, 17)}, abi.CodeInternal, NotRefused, "failed on purpose"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			on := h
			if tt.req.ID == "loop" {
				on = short
			}
			ce := callErr(t, on, tt.req)
			if ce.Code != tt.wantCode || ce.Refused != tt.wantRefused || ce.Message != tt.wantMsg {
				t.Fatalf("got code %d %v %q, want %d %v %q", ce.Code, ce.Refused, ce.Message, tt.wantCode, tt.wantRefused, tt.wantMsg)
			}
			wantPlugin := "hostile"
			if tt.wantRefused == RefusedNotFound {
				wantPlugin = ""
			}
			if ce.Plugin != wantPlugin {
				t.Fatalf("Plugin = %q, want %q", ce.Plugin, wantPlugin)
			}
		})
	}
	t.Run("ErrRecursion", func(t *testing.T) {
		// A separate host: its instance is discarded after the trap.
		h := newTestHost(t, pluginDir(t, "hostile.wasm"), func(c *Config) { c.CallTimeout = time.Minute })
		ce := callErr(t, h, &Request{ID: "recurse"})
		if ce.Code != abi.CodeInternal || !strings.HasPrefix(ce.Message, "plugin trapped: stack overflow") {
			t.Fatalf("got code %d %q", ce.Code, ce.Message)
		}
	})
	t.Run("ServerOnlyWithoutUser", func(t *testing.T) {
		res, err := h.Call(context.Background(), &Request{ID: "Server_Only", Payload: []byte("s2s")})
		if err != nil || string(res.Output) != "s2s" {
			t.Fatalf("got %q, %v", res.Output, err)
		}
	})
	t.Run("StillServesAfterAbuse", func(t *testing.T) {
		res, err := h.Call(context.Background(), &Request{ID: "echo", Payload: []byte("alive")})
		if err != nil || string(res.Output) != "alive" {
			t.Fatalf("got %v, %v", res, err)
		}
	})
}

func TestHost_Call_memoryCap(t *testing.T) {
	const capPages = 64
	h := newTestHost(t, pluginDir(t, "hostile.wasm"), func(c *Config) {
		c.MaxMemoryPages = capPages
		c.HighWaterBytes = 1 << 20
	})
	res, err := h.Call(context.Background(), &Request{ID: "grow"})
	if err != nil {
		t.Fatal(err)
	}
	pages := binary.LittleEndian.Uint32(res.Output)
	if pages > capPages || pages < capPages-16 {
		t.Fatalf("memory grew to %d pages, want the cap %d (within one 16-page step)", pages, capPages)
	}
	if n := h.Plugins()[0].Instances(); n != 0 {
		t.Fatalf("%d instances alive after the grown one was used, want it recycled (0)", n)
	}
}

// TestHost_Call_outOfBounds checks that every host function answers an
// out-of-bounds range with a status instead of trapping or panicking.
func TestHost_Call_outOfBounds(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "hostile.wasm"), nil)
	res, err := h.Call(context.Background(), &Request{ID: "oob", Trace: TraceID("trace-1")})
	if err != nil {
		t.Fatal(err)
	}
	inv, lim := int64(abi.StatusInvalidMemory), int64(abi.StatusLimitExceeded)
	want := []struct {
		name string
		v    int64
	}{
		{"rpc_register outside init", int64(abi.StatusNotAllowed)},
		{"input_read dst", inv}, {"output_write src", inv}, {"error_set msg", inv},
		{"ctx_get key", inv}, {"ctx_get dst", inv}, {"log msg", inv},
		{"db_exec sql", inv}, {"db_exec args", inv}, {"db_query sql", inv},
		{"result_read dst", inv}, {"last_error dst", inv}, {"random_fill dst", inv},
		{"input_read huge", inv}, {"output_write huge", lim}, {"ctx_get huge key", int64(abi.StatusBadArgument)},
	}
	if len(res.Output) != 8*len(want) {
		t.Fatalf("output is %d bytes, want %d", len(res.Output), 8*len(want))
	}
	for i, w := range want {
		if got := int64(binary.LittleEndian.Uint64(res.Output[8*i:])); got != w.v {
			t.Errorf("%s: got %d, want %d (%s)", w.name, got, w.v, abi.Status(w.v))
		}
	}
	t.Run("InitRegisterOutOfBounds", func(t *testing.T) {
		res, err := h.Call(context.Background(), &Request{ID: "init_status"})
		if err != nil {
			t.Fatal(err)
		}
		if got := int32(binary.LittleEndian.Uint32(res.Output)); got != int32(abi.StatusInvalidMemory) {
			t.Fatalf("rpc_register with a bad id in init = %d, want %d", got, abi.StatusInvalidMemory)
		}
	})
}

func TestHost_New_errors(t *testing.T) {
	tests := []struct {
		name     string
		fixtures []string
		want     string
	}{
		{"ErrUnknownImport", []string{"bad/unknown_import.wasm"}, "plugin unknown_import: imports warden_v1.db_foo (i32) -> (i32), which ABI " + abi.Version + " does not have"},
		{"ErrEnvAbort", []string{"bad/env_abort.wasm"}, "which Warden does not provide (ABI " + abi.Version + " provides warden_v1, wasi_snapshot_preview1); " +
			`AssemblyScript imports env.abort unless built with the SDK's asconfig.json ("extends": "warden-sdk/asconfig.json" in the plugin's asconfig.json routes abort to warden_v1.panic; see sdk/assemblyscript/README.md)`},
		{"ErrMissingExport", []string{"bad/no_handle.wasm"}, "plugin no_handle: missing export warden_handle"},
		{"ErrWrongABI", []string{"bad/wrong_abi.wasm"}, "plugin wrong_abi: missing export warden_abi_v1"},
		{"ErrInitTraps", []string{"bad/init_traps.wasm"}, "plugin init_traps: warden_init: wasm error: unreachable"},
		{"ErrDuplicateRPC", []string{"bad/dup_a.wasm", "bad/dup_b.wasm"}, `rpc "same" is registered by both plugin dup_a and plugin dup_b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), Config{
				PluginDir:  pluginDir(t, tt.fixtures...),
				Logger:     zerolog.New(zerolog.NewTestWriter(t)),
				StrictLoad: true,
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestHost_Call_concurrent hammers one plugin from many goroutines, mixing
// good calls with traps, under -race. Every worker's first call traps, so
// the circuit breaker's default threshold could open it before any echo
// has finished; the breaker has tests of its own, and here its threshold
// is above the number of traps.
func TestHost_Call_concurrent(t *testing.T) {
	const workers, calls = 8, 50
	h := newTestHost(t, pluginDir(t, "hostile.wasm"), func(c *Config) {
		c.MaxInstances = 4
		c.BreakerThreshold = workers*calls/10 + 1
	})
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				id, want := "echo", strings.Repeat("x", w*10+i)
				if i%10 == 0 {
					id = "trap"
				}
				res, err := h.Call(context.Background(), &Request{ID: id, Payload: []byte(want)})
				if id == "trap" {
					var ce *CallError
					if !errors.As(err, &ce) || ce.Code != abi.CodeInternal {
						errs <- err
						return
					}
					continue
				}
				if err != nil || string(res.Output) != want {
					errs <- errors.Join(err, errors.New("wrong echo"))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := h.Plugins()[0].Instances(); n > 4 {
		t.Fatalf("%d instances alive, want at most MaxInstances=4", n)
	}
}

// TestHost_Call_deadlineCoversTheWait checks that the deadline counts from
// the call's start, waiting for a free instance included, and that an
// instance whose call ran out of time is replaced. It asserts no duration:
// the test holds the only slot itself, so a call can only end by the
// host's deadline while it waits; the caller's own context allows a minute.
func TestHost_Call_deadlineCoversTheWait(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "hostile.wasm"), func(c *Config) {
		c.CallTimeout = time.Second
		c.MaxInstances = 1
	})
	p := h.Plugins()[0]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	busy, _, err := p.pool.get(ctx, time.Now().Add(time.Minute)) // the only instance is busy until the test says
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Call(ctx, &Request{ID: "echo"})
	var ce *CallError
	if !errors.As(err, &ce) || ce.Code != abi.CodeDeadlineExceeded || ce.Message != "rpc exceeded its deadline waiting for an instance" || ctx.Err() != nil {
		t.Fatalf("call while the only instance is busy: %v (caller's context: %v), want code 4 waiting for an instance", err, ctx.Err())
	}
	p.pool.put(ctx, busy, true)
	// Two loops at once on the one instance: each ends with code 4, whether
	// it ran out of time waiting or looping.
	first := make(chan *CallError)
	go func() { first <- callErr(t, h, &Request{ID: "loop"}) }()
	if ce := callErr(t, h, &Request{ID: "loop"}); ce.Code != abi.CodeDeadlineExceeded {
		t.Fatalf("second loop: code %d %q, want 4", ce.Code, ce.Message)
	}
	if ce := <-first; ce.Code != abi.CodeDeadlineExceeded {
		t.Fatalf("first loop: code %d %q, want 4", ce.Code, ce.Message)
	}
	for range 3 {
		res, err := h.Call(context.Background(), &Request{ID: "echo", Payload: []byte("x")})
		if err != nil || string(res.Output) != "x" {
			t.Fatalf("echo after the timeouts = %q, %v", res.Output, err)
		}
	}
}

// TestHost_Call_start checks that a call's deadline runs from the
// request's Start when the caller gives one (a clock reading it has just
// taken), and from the host's own reading when it does not. A loop whose
// Start is older than the call timeout (a minute) ends with code 4 while
// the caller's own context (30 s) is still alive.
func TestHost_Call_start(t *testing.T) {
	const timeout = time.Minute
	h := newTestHost(t, pluginDir(t, "hostile.wasm"), func(c *Config) {
		c.CallTimeout = timeout
		c.MaxInstances = 1
	})
	p := h.Plugins()[0]
	deadline := func() time.Time { // the one instance's last deadline
		p.pool.mu.Lock()
		defer p.pool.mu.Unlock()
		return p.pool.idle[len(p.pool.idle)-1].cc.deadline
	}
	start := time.Now().Add(-time.Second)
	if res, err := h.Call(context.Background(), &Request{ID: "echo", Payload: []byte("x"), Start: start}); err != nil || string(res.Output) != "x" {
		t.Fatalf("echo with a Start = %q, %v", res.Output, err)
	}
	if got := deadline(); !got.Equal(start.Add(timeout)) {
		t.Errorf("deadline with a Start = %v, want %v", got, start.Add(timeout))
	}
	before := time.Now()
	if res, err := h.Call(context.Background(), &Request{ID: "echo", Payload: []byte("x")}); err != nil || string(res.Output) != "x" {
		t.Fatalf("echo without a Start = %q, %v", res.Output, err)
	}
	if got := deadline(); got.Before(before.Add(timeout)) || got.After(time.Now().Add(timeout)) {
		t.Errorf("deadline without a Start = %v, want between %v and %v", got, before.Add(timeout), time.Now().Add(timeout))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := h.Call(ctx, &Request{ID: "loop", Start: time.Now().Add(-2 * timeout)})
	var ce *CallError
	if !errors.As(err, &ce) || ce.Code != abi.CodeDeadlineExceeded || ctx.Err() != nil {
		t.Fatalf("loop with a Start two minutes ago: %v (caller's context: %v), want code 4 first", err, ctx.Err())
	}
}
