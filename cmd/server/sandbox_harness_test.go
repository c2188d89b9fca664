package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The sandbox tests' harness: an arena of real server processes sharing one
// binary and one compilation cache, a watchdog that keeps an attack from
// exhausting the machine's memory, and clients for the attack plugins.

// Memory bounds of the sandbox tests.
const (
	// rssGrowthLimit is how much a server's peak RSS may pass its RSS
	// before an attack: generous, since an attack that works costs GiBs.
	rssGrowthLimit = 300 << 20
	// rssStartLimit bounds the peak RSS of a server from its start: a
	// -race build serving the bundled plugins peaks under 100 MiB.
	rssStartLimit = 512 << 20
	// rssKillLimit is the RSS at which the watchdog kills a server, so
	// that an attack that works cannot exhaust the shared machine.
	rssKillLimit = 1536 << 20
)

// attacksDir holds the attack plugins, built from WAT by make fixtures.
const attacksDir = "testdata/attacks"

// arena starts servers from one binary, with the package's shared
// compilation cache (see newDataDir), under one watchdog.
type arena struct {
	bin string
	dog *watchdog
}

// newArena builds the server and starts the watchdog.
func newArena(t *testing.T) *arena {
	t.Helper()
	bin := buildServer(t)
	return &arena{bin: bin, dog: startWatchdog(t, bin)}
}

// target is one server process of the arena with its directories.
type target struct {
	a       *arena
	p       *process
	base    string // http://host:port
	data    string
	plugins string
	args    []string
}

// bundled names a plugin of ../../plugins; attack one of attacksDir.
func bundled(name string) string { return filepath.Join("../../plugins", name, name+".wasm") }
func attack(name string) string  { return filepath.Join(attacksDir, name+".wasm") }

// start prepares a server (see prepare) and starts it.
func (a *arena) start(t *testing.T, files []string, extra ...string) *target {
	t.Helper()
	tg := a.prepare(t, files, extra...)
	tg.restart(t)
	return tg
}

// prepare copies the plugin files into a fresh plugins directory, makes a
// fresh data directory, and returns the target that restart starts with
// them, the test keys and extra flags.
func (a *arena) prepare(t *testing.T, files []string, extra ...string) *target {
	t.Helper()
	tg := &target{a: a, data: newDataDir(t), plugins: fixtureDir(t, files...)}
	tg.args = append([]string{"-plugins", tg.plugins, "-server-key", testServerKey,
		"-encryption-key", testEncKey, "-access-log=false"}, extra...)
	return tg
}

// restart starts the server again on the same directories; the previous
// process must have stopped.
func (tg *target) restart(t *testing.T) {
	t.Helper()
	// A server the watchdog kills before it answers fails startBinary,
	// which cannot know why: say it.
	kills := tg.a.dog.killCount()
	t.Cleanup(func() {
		if t.Failed() {
			for _, k := range tg.a.dog.killsSince(kills) {
				t.Log(k)
			}
		}
	})
	tg.p = startBinary(t, tg.a.bin, tg.data, tg.args...)
	tg.base = "http://" + tg.p.addr
}

// pid is the server's process id.
func (tg *target) pid() int { return tg.p.cmd.Process.Pid }

// send makes one request with a client timeout and reads the whole answer.
func send(method, url, body string, header map[string]string, timeout time.Duration) (response, error) {
	return sendFrom(nil, method, url, body, header, timeout)
}

// sendFrom is send from the local address local (nil: any).
func sendFrom(local net.Addr, method, url, body string, header map[string]string, timeout time.Duration) (response, error) {
	tr := &http.Transport{DisableKeepAlives: true, DialContext: (&net.Dialer{LocalAddr: local}).DialContext}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := (&http.Client{Timeout: timeout, Transport: tr}).Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	return response{res.StatusCode, res.Header.Get("Content-Type"), string(b), res.Header}, nil
}

// rpc calls the RPC id as the server (with the HTTP key), unwrapped.
func (tg *target) rpc(id, body string) (response, error) {
	return send("POST", tg.base+"/v2/rpc/"+id+"?unwrap&http_key="+testHTTPKey, body, nil, 30*time.Second)
}

// mustRPC is rpc that fails the test unless the answer is 200 with want.
func (tg *target) mustRPC(t *testing.T, id, body, want string) {
	t.Helper()
	res, err := tg.rpc(id, body)
	if err != nil || res.Status != 200 || res.Body != want {
		t.Fatalf("%s %s: %d %q %v, want 200 %q", id, body, res.Status, res.Body, err, want)
	}
}

// reload asks the server to rescan its plugins; the answer's status is not
// checked, as a refused plugin may change it.
func (tg *target) reload(t *testing.T) response {
	t.Helper()
	res, err := send("POST", tg.base+"/_warden/plugins?http_key="+testHTTPKey, "", nil, 20*time.Second)
	if err != nil {
		t.Fatalf("reload: %v%s", err, tg.a.dog.note(tg.pid()))
	}
	return res
}

// deploy copies a plugin file into the plugins directory as name.
func (tg *target) deploy(t *testing.T, file, name string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tg.plugins, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// alive fails the test unless the server still answers its healthcheck
// and the echo RPC.
func (tg *target) alive(t *testing.T) {
	t.Helper()
	if err := probe(tg.base); err != nil {
		t.Fatalf("server not responsive: %v%s\n%s", err, tg.a.dog.note(tg.pid()), tg.p.logs.String())
	}
}

// login authenticates the custom ID id, creating the user, and returns
// its session token.
func (tg *target) login(id, username string) (string, error) {
	res, err := send("POST", tg.base+"/v2/account/authenticate/custom?create=true&username="+username,
		`{"id":"`+id+`"}`, map[string]string{"Authorization": "Basic " + basic(testServerKey)}, 30*time.Second)
	if err != nil {
		return "", err
	}
	var out struct{ Token string }
	if res.Status != 200 || json.Unmarshal([]byte(res.Body), &out) != nil || out.Token == "" {
		return "", fmt.Errorf("authenticate %s: %d %s", id, res.Status, res.Body)
	}
	return out.Token, nil
}

// sql runs one statement through the attacker plugin's atk_query or
// atk_exec and returns its answer: ok and the encoded result or row count,
// or the status and message of the refusal.
func (tg *target) sql(t *testing.T, rpc, stmt string, args ...any) (ok bool, answer []byte) {
	t.Helper()
	res, err := tg.rpc(rpc, sqlInput(stmt, args...))
	if err != nil {
		t.Fatalf("%s %q: %v%s", rpc, stmt, err, tg.a.dog.note(tg.pid()))
	}
	if res.Status != 200 || res.Body == "" || (res.Body[0] != 'K' && res.Body[0] != 'E') {
		return false, []byte(res.Body) // refused before the plugin ran: fine
	}
	if res.Body[0] == 'E' && len(res.Body) >= 9 {
		st := int64(binary.LittleEndian.Uint64([]byte(res.Body[1:9])))
		t.Logf("%s %.80q refused: status %d: %s", rpc, stmt, st, res.Body[9:])
		return false, []byte(res.Body[9:])
	}
	return true, []byte(res.Body[1:])
}

// sqlInput is the input of the attacker's atk_query and atk_exec: the
// statement's length as a u32, the statement, and the encoded arguments.
func sqlInput(stmt string, args ...any) string {
	in := binary.LittleEndian.AppendUint32(nil, uint32(len(stmt)))
	return string(append(append(in, stmt...), encodeValues(args...)...))
}

// encodeValues encodes a value list (ABI.md 4.1) of nil, int, int64,
// string and []byte values.
func encodeValues(args ...any) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(args)))
	for _, a := range args {
		switch v := a.(type) {
		case nil:
			b = append(b, 0)
		case int:
			b = binary.LittleEndian.AppendUint64(append(b, 1), uint64(v))
		case int64:
			b = binary.LittleEndian.AppendUint64(append(b, 1), uint64(v))
		case float64:
			b = binary.LittleEndian.AppendUint64(append(b, 2), math.Float64bits(v))
		case string:
			b = append(binary.LittleEndian.AppendUint32(append(b, 3), uint32(len(v))), v...)
		case []byte:
			b = append(binary.LittleEndian.AppendUint32(append(b, 4), uint32(len(v))), v...)
		default:
			panic(fmt.Sprintf("encodeValues: %T", a))
		}
	}
	return b
}

// watchdog watches the RSS of this test's children that run the server
// binary: it records each one's peak and kills one that passes
// rssKillLimit.
type watchdog struct {
	bin  string
	mu   sync.Mutex
	peak map[int]int64  // by pid, since the last resetPeak
	kill map[int]string // by pid: why the watchdog killed it
	log  []string       // every kill, in order
	// noHWM holds the pids whose VmHWM could not be reset.
	noHWM map[int]bool
}

// startWatchdog polls the children every 10ms until the test ends.
func startWatchdog(t *testing.T, bin string) *watchdog {
	w := &watchdog{bin: bin, peak: map[int]int64{}, kill: map[int]string{}, noHWM: map[int]bool{}}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		repeatUntil(stop, 10*time.Millisecond, func() bool { w.poll(); return true })
	}()
	t.Cleanup(func() { close(stop); <-done })
	return w
}

// poll looks at every child running the binary once.
func (w *watchdog) poll() {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(s)
			if err != nil {
				continue
			}
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe != w.bin {
				continue
			}
			rss := statusBytes(pid, "VmRSS")
			w.mu.Lock()
			w.peak[pid] = max(w.peak[pid], rss)
			if rss > rssKillLimit && w.kill[pid] == "" {
				w.kill[pid] = fmt.Sprintf("the watchdog killed the server at %d MiB RSS", rss>>20)
				w.log = append(w.log, fmt.Sprintf("pid %d: %s", pid, w.kill[pid]))
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			w.mu.Unlock()
		}
	}
}

// note says why the watchdog killed pid, if it did, for failure messages.
func (w *watchdog) note(pid int) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.kill[pid] == "" {
		return ""
	}
	return " (" + w.kill[pid] + ")"
}

// killCount is the number of kills so far, for killsSince.
func (w *watchdog) killCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.log)
}

// killsSince describes the kills after the first n.
func (w *watchdog) killsSince(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.log[n:])
}

// resetPeak starts a new peak for pid at its current RSS, in the kernel's
// record (VmHWM) and the watchdog's, and returns that RSS.
func (w *watchdog) resetPeak(t *testing.T, pid int) int64 {
	t.Helper()
	// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0);
	// where it cannot, the watchdog's polls alone give the peak.
	err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
	if err != nil {
		t.Logf("peak RSS from polls only: %v", err)
	}
	rss := statusBytes(pid, "VmRSS")
	w.mu.Lock()
	w.peak[pid] = rss
	w.noHWM[pid] = err != nil
	w.mu.Unlock()
	return rss
}

// peakRSS is the highest RSS of pid since its start or last resetPeak, as
// the kernel or the watchdog saw it.
func (w *watchdog) peakRSS(pid int) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.noHWM[pid] {
		return w.peak[pid]
	}
	return max(w.peak[pid], statusBytes(pid, "VmHWM"))
}

// statusBytes reads a "kB" field of /proc/<pid>/status, in bytes; 0 if the
// process is gone.
func statusBytes(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte(field+":")); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(v)), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// boundedMemory runs attack against tg and fails the test if the server's
// peak RSS passed its RSS before the attack by rssGrowthLimit, or if it
// stopped answering.
func (tg *target) boundedMemory(t *testing.T, attack func()) {
	t.Helper()
	before := tg.a.dog.resetPeak(t, tg.pid())
	attack()
	if peak := tg.a.dog.peakRSS(tg.pid()); peak-before > rssGrowthLimit {
		t.Errorf("the server's RSS grew from %d MiB to %d MiB during the attack, more than %d MiB",
			before>>20, peak>>20, rssGrowthLimit>>20)
	}
	tg.alive(t)
}

// repeatUntil calls fn every d until stop is closed or fn returns false.
func repeatUntil(stop <-chan struct{}, d time.Duration, fn func() bool) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(d):
		}
		if !fn() {
			return
		}
	}
}
