package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", for integrity_check
)

// TestServer_durability builds the real binary and stops it mid-load, with
// SIGKILL and with SIGTERM: every write (kv_put, an autocommit write, or
// counter_incr, a write transaction) acknowledged with 200 must be there
// after a restart, and the database must pass PRAGMA integrity_check.
func TestServer_durability(t *testing.T) {
	bin := buildServer(t)
	t.Run("KillMidLoad", func(t *testing.T) {
		data := newDataDir(t)
		p := startBinary(t, bin, data)
		res := loadUntil(t, p, syscall.SIGKILL)
		if err := p.wait(5 * time.Second); err == nil {
			t.Fatal("server exited cleanly after SIGKILL")
		}
		// The crash image itself must be sound, before any recovery by a
		// restarted server.
		integrityCheckAll(t, data)
		checkAcked(t, bin, data, res, nil)
	})
	t.Run("GracefulShutdownUnderLoad", func(t *testing.T) {
		data := newDataDir(t)
		p := startBinary(t, bin, data)
		res := loadUntil(t, p, syscall.SIGTERM)
		if err := p.wait(15 * time.Second); err != nil {
			t.Fatalf("server after SIGTERM: %v\n%s", err, p.logs.String())
		}
		// A clean stop closes every connection, so SQLite folds the WAL
		// into the database file: the file alone is the whole database.
		for _, f := range databaseFiles(t, data) {
			if _, err := os.Stat(f + "-wal"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s-wal still there after a graceful shutdown (%v)", f, err)
			}
		}
		// During a graceful shutdown every request that reached the server
		// gets a whole answer; the others are refused before any byte, and
		// none of those ran.
		if n := res.count[putTruncated] + res.count[putHung] + res.count[putBad]; n > 0 {
			t.Fatalf("%d truncated, hung or failed answers during shutdown; first: %s", n, res.firstFailure)
		}
		t.Logf("%d requests in flight when SIGTERM was sent were answered 200", res.ackedInFlight)
		checkAcked(t, bin, data, res, func(p *process) {
			if ran := len(res.dropped) - len(missingKeys(p.addr, res.dropped)); ran > 0 {
				t.Errorf("%d of %d requests that got no answer were written anyway", ran, len(res.dropped))
			}
		})
	})
}

// checkAcked restarts the server on data, checks that every acknowledged
// key is there with its value, runs more checks if given, stops the server
// gracefully, and checks the database's integrity.
func checkAcked(t *testing.T, bin, data string, res *loadResult, more func(*process)) {
	t.Helper()
	p := startBinary(t, bin, data)
	if missing := missingKeys(p.addr, res.acked); len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged keys lost, such as %s", len(missing), len(res.acked), missing[0])
	}
	if more != nil {
		more(p)
	}
	if err := p.stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, p.logs.String())
	}
	integrityCheckAll(t, data)
	t.Logf("%d writes acknowledged before %s, all present after restart; outcomes %v",
		len(res.acked), res.signal, res.count)
}

// buildServer builds the server binary into a temporary directory, with
// -race when this test binary has it, so that both share the build cache.
func buildServer(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goroot := os.Getenv("GOROOT")
		if goroot == "" {
			t.Fatal("no go command (PATH or GOROOT) to build the server with")
		}
		goCmd = filepath.Join(goroot, "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "warden")
	args := []string{"build", "-o", bin}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	start := time.Now()
	if out, err := exec.Command(goCmd, append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("built the server in %s", time.Since(start).Round(time.Millisecond))
	return bin
}

// process is the server binary running as a subprocess.
type process struct {
	cmd  *exec.Cmd
	addr string
	logs *lockedBuffer
	done chan error
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startBinary starts bin on a free port with data as its data directory
// and the bundled plugins, and waits until its healthcheck answers. Flags
// in extra come last, so they override these (a later -plugins wins).
func startBinary(t *testing.T, bin, data string, extra ...string) *process {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &process{addr: addr, logs: &lockedBuffer{}, done: make(chan error, 1)}
	args := []string{"-addr", addr, "-data", data, "-plugins", "../../plugins", "-http-key", testHTTPKey, "-log-level", "warn"}
	p.cmd = exec.Command(bin, append(args, extra...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.wait(5 * time.Second) })
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(startBound(t)); ; time.Sleep(20 * time.Millisecond) {
		if res, err := client.Get("http://" + addr + "/healthcheck"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("server exited: %v\n%s", err, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not healthy before the test's deadline\n%s", p.logs.String())
		}
	}
}

// wait waits up to d for the process to exit and returns its error.
func (p *process) wait(d time.Duration) error {
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(d):
		return fmt.Errorf("still running after %s", d)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *process) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	return p.wait(15 * time.Second)
}

// integrityCheck opens the stopped server's database read-only and runs
// PRAGMA integrity_check.
// databaseFiles lists the database files under data: warden.db and every
// plugin's db/<plugin>.db; the kv plugin's must be among them.
func databaseFiles(t *testing.T, data string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(data, pluginDBDir, "*.db"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(files, filepath.Join(data, pluginDBDir, "kv.db")) {
		t.Fatalf("no kv.db among the plugin databases %v", files)
	}
	return append(files, filepath.Join(data, wardenDBFile))
}

// integrityCheckAll runs integrityCheck on every database file under data.
func integrityCheckAll(t *testing.T, data string) {
	t.Helper()
	for _, f := range databaseFiles(t, data) {
		integrityCheck(t, f)
	}
}

func integrityCheck(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&got); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if got != "ok" {
		t.Fatalf("integrity_check: %s", got)
	}
}

// missingKeys calls kv_get for every key, as the server caller that put
// them, and returns those that are absent or hold another value.
func missingKeys(addr string, keys []string) []string {
	var mu sync.Mutex
	var missing []string
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < len(keys); i += 16 {
				rpc, payload, want := readBack(keys[i])
				url := "http://" + addr + "/v2/rpc/" + rpc + "?unwrap&http_key=" + testHTTPKey
				res, err := client.Post(url, "application/json", strings.NewReader(payload))
				var body []byte
				if err == nil {
					body, err = io.ReadAll(res.Body)
					res.Body.Close()
				}
				if err != nil || res.StatusCode != 200 || string(body) != want {
					mu.Lock()
					missing = append(missing, fmt.Sprintf("%s (%v %s)", keys[i], err, body))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return missing
}

// putOutcome is how one write ended, as its client saw it.
type putOutcome int

const (
	putAcked     putOutcome = iota // a whole 200 {} answer
	putRefused                     // no connection: the server is gone
	putDropped                     // connected, but not one byte came back
	putTruncated                   // part of an answer
	putHung                        // no answer within 10s
	putBad                         // a whole answer other than 200 {}
	numOutcomes
)

// loadResult is what a load run saw.
type loadResult struct {
	signal        syscall.Signal
	acked         []string
	dropped       []string // connected, but got no answer at all
	count         [numOutcomes]int
	ackedInFlight int // acknowledged calls that started before the signal
	firstFailure  string
}

// loadUntil runs 16 writers, half calling kv_put and half counter_incr,
// with distinct keys, each call on its own connection, sends sig to the
// server once the load is going, and returns when every writer has found
// the server gone.
func loadUntil(t *testing.T, p *process, sig syscall.Signal) *loadResult {
	t.Helper()
	const workers = 16
	res := &loadResult{signal: sig}
	var mu sync.Mutex
	var signalAt time.Time // set once, under mu
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("%c%02d-%06d", "wc"[w%2], w, i) // half kv_put, half counter_incr
				start := time.Now()
				out, detail := put(p.addr, key)
				mu.Lock()
				res.count[out]++
				if out == putAcked {
					res.acked = append(res.acked, key)
					if !signalAt.IsZero() && start.Before(signalAt) {
						res.ackedInFlight++
					}
				} else if out == putDropped {
					res.dropped = append(res.dropped, key)
				} else if out != putRefused && res.firstFailure == "" {
					res.firstFailure = key + ": " + detail
				}
				gone := out == putRefused || (!signalAt.IsZero() && time.Since(signalAt) > 20*time.Second)
				mu.Unlock()
				if gone {
					return
				}
			}
		})
	}
	// The load is going once writes are acknowledged: half a second of it,
	// or on a loaded machine as long as the first acknowledgement takes.
	time.Sleep(500 * time.Millisecond)
	for end := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(res.acked)
		mu.Unlock()
		if n > 0 || time.Now().After(end) {
			break
		}
	}
	mu.Lock()
	n, before := len(res.acked), res.count
	signalAt = time.Now()
	mu.Unlock()
	if n == 0 || before[putRefused] > 0 {
		t.Fatalf("before %s: %d acknowledged, outcomes %v, first failure %s\n%s", sig, n, before, res.firstFailure, p.logs.String())
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return res
}

// write returns the RPC, payload and answer of the write of key: a kv_put
// of value "v-"+key (an autocommit write) for keys starting with "w", a
// counter_incr of counter key (a write transaction) for the others.
func write(key string) (rpc, body, want string) {
	if key[0] == 'w' {
		return "kv_put", fmt.Sprintf(`{"key":%q,"value":%q}`, key, "v-"+key), "{}"
	}
	return "counter_incr", fmt.Sprintf(`{"name":%q}`, key), fmt.Sprintf(`{"name":%q,"value":1}`, key)
}

// readBack returns the RPC, payload and answer that find key's write: a
// counter read by adding 0 is 1 if the write is there (0 if not).
func readBack(key string) (rpc, body, want string) {
	if key[0] == 'w' {
		return "kv_get", fmt.Sprintf(`{"key":%q}`, key), fmt.Sprintf(`{"key":%q,"value":%q}`, key, "v-"+key)
	}
	return "counter_incr", fmt.Sprintf(`{"name":%q,"by":0}`, key), fmt.Sprintf(`{"name":%q,"value":1}`, key)
}

// put sends key's write (see write) on a new connection with Connection:
// close, and reads until the server closes it.
func put(addr, key string) (putOutcome, string) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return putRefused, err.Error()
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	rpc, body, want := write(key)
	req := fmt.Sprintf("POST /v2/rpc/%s?unwrap&http_key=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"+
		"Content-Length: %d\r\n\r\n%s", rpc, testHTTPKey, len(body), body)
	_, werr := io.WriteString(c, req)
	b, err := io.ReadAll(c)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return putHung, fmt.Sprintf("%d bytes then %v", len(b), err)
	case len(b) == 0:
		return putDropped, fmt.Sprint(werr, err)
	case err != nil:
		return putTruncated, fmt.Sprintf("%q then %v", b, err)
	}
	r, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		return putTruncated, fmt.Sprintf("%q: %v", b, err)
	}
	got, err := io.ReadAll(r.Body)
	switch {
	case err != nil:
		return putTruncated, fmt.Sprintf("%q: %v", b, err)
	case r.StatusCode != 200 || string(got) != want:
		return putBad, fmt.Sprintf("%d %s", r.StatusCode, got)
	}
	return putAcked, ""
}
