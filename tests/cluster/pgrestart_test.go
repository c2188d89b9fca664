package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// privatePostgres starts a PostgreSQL server of the test's own (never the
// shared one, which other tests use) with scripts/pg-test-server, removed
// at the end, and returns its URL and a function that runs the script.
func privatePostgres(t *testing.T) (string, func(cmd string)) {
	t.Helper()
	_ = pgtest.URL(t) // skips without PostgreSQL, fails under CI
	port := fmt.Sprint(freePortBelowEphemeral(t))
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	env := append(os.Environ(), "PGTEST_PORT="+port, "PGTEST_DIR=/tmp/warden-cluster-pg-"+hex.EncodeToString(b))
	run := func(cmd string) {
		t.Helper()
		c := exec.Command("../../scripts/pg-test-server", cmd)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("pg-test-server %s: %v\n%s", cmd, err, out)
		}
	}
	c := exec.Command("../../scripts/pg-test-server", "start")
	c.Env = env
	out, err := c.Output()
	if err != nil {
		t.Fatalf("pg-test-server start: %v", err)
	}
	t.Cleanup(func() { run("stop") })
	return strings.TrimSpace(string(out)), run
}

// freePortBelowEphemeral returns a port that is free on 127.0.0.1 and
// below the kernel's range for ephemeral ports. The test stops and starts
// its PostgreSQL on one port; while it is stopped, a port from the
// ephemeral range could be taken by any outgoing connection or any
// listener on port 0, as every other test's is, and the restart would
// fail. Ports below the range are taken only by those who name them.
func freePortBelowEphemeral(t *testing.T) int {
	t.Helper()
	low := 32768 // Linux's default when the range cannot be read
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	const base = 20000
	if low <= base+100 {
		t.Fatalf("the ephemeral port range starts at %d: no room below it", low)
	}
	var b [2]byte
	for range 100 {
		_, _ = rand.Read(b[:])
		port := base + (int(b[0])<<8|int(b[1]))%(low-base)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			_ = l.Close()
			return port
		}
	}
	t.Fatalf("no free port in %d..%d", base, low-1)
	return 0
}

// TestCluster_postgresRestart restarts PostgreSQL under a load on three
// nodes: while it is away every request fails fast with a retryable answer
// (503, code 14), not at its deadline; once it is back, every node serves
// RPCs, sessions and sign-ups again by itself, and hears logouts again; no
// acknowledged write is lost.
func TestCluster_postgresRestart(t *testing.T) {
	url, pgctl := privatePostgres(t)
	const callTimeout = 30 * time.Second // a hang would show as an answer this slow
	c := newCluster(t, url, "-call-timeout", callTimeout.String())
	nodes := c.start(t, 3)
	hc := client(5)
	tok := token(t, c.authenticate(t.Context(), hc, nodes[0], "restart-device-0001", "carol"))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var tl tally
	var phase atomic.Int32 // 0 before the stop, 1 stopped, 2 restarted
	var mu sync.Mutex
	var slow []string
	outage := map[string]int{}
	wait := load(ctx, 12, func(hc *http.Client, w, i int) {
		nd := nodes[(w+i)%len(nodes)]
		p := phase.Load()
		a := c.rpc(ctx, hc, nd, "counter_incr", `{"name":"hits"}`)
		if ctx.Err() != nil {
			return
		}
		tl.record(nd, a)
		if p == 1 && phase.Load() == 1 { // wholly inside the outage
			mu.Lock()
			outage[fmt.Sprintf("%d code %d", a.status, a.code)]++
			if a.elapsed > callTimeout/2 { // a hang ends at the deadline; a loaded machine is far below it
				slow = append(slow, fmt.Sprintf("%s: %s", nd.name, a.elapsed))
			}
			mu.Unlock()
		}
		time.Sleep(5 * time.Millisecond)
	})
	waitFor(t, func() bool { return tl.ok.Load() >= 50 }, "50 increments before the stop")
	pgctl("halt")
	phase.Store(1)
	time.Sleep(2 * time.Second)
	// The account API and sessions during the outage: retryable too.
	for _, nd := range nodes {
		if a := userRPC(t.Context(), hc, nd, tok, "whoami", ""); a.status != http.StatusServiceUnavailable || a.code != 14 {
			t.Errorf("whoami with a session on %s during the outage = %d %q, want 503 code 14", nd.name, a.status, a.body)
		}
		if a := c.authenticate(t.Context(), hc, nd, "restart-device-"+nd.name, ""); a.status != http.StatusServiceUnavailable || a.code != 14 {
			t.Errorf("sign-up on %s during the outage = %d %q, want 503 code 14", nd.name, a.status, a.body)
		}
	}
	phase.Store(2)
	pgctl("start")
	back := time.Now()
	recovered := make([]time.Duration, len(nodes))
	for i, nd := range nodes {
		waitFor(t, func() bool {
			ok := c.rpc(t.Context(), hc, nd, "kv_put", `{"key":"k","value":"v"}`).status == http.StatusOK &&
				userRPC(t.Context(), hc, nd, tok, "whoami", "").status == http.StatusOK &&
				c.authenticate(t.Context(), hc, nd, "restart-device-"+nd.name, "").status == http.StatusOK
			if !ok {
				time.Sleep(20 * time.Millisecond)
			}
			return ok
		}, nd.name+" serving again after the restart")
		recovered[i] = time.Since(back)
	}
	t.Logf("nodes serving again after PostgreSQL's return (in order checked): %v", recovered)
	cancel()
	wait()

	mu.Lock()
	t.Logf("answers during the outage: %v; before and after: %d ok, %d retryable", outage, tl.ok.Load(), tl.retryable.Load())
	for k := range outage {
		if k != "503 code 14" {
			t.Errorf("answers during the outage include %q, want only 503 code 14", k)
		}
	}
	if len(outage) == 0 {
		t.Error("no request ran during the outage")
	}
	for _, s := range slow {
		t.Errorf("a request during the outage took %s, want a fast failure", s)
	}
	mu.Unlock()
	for _, b := range tl.bad {
		t.Error("not 200 and not retryable:", b)
	}
	if n := tl.transport.Load(); n > 0 {
		t.Errorf("%d requests failed in transport", n)
	}
	if got := c.counterValue(t, nodes[1], "hits"); got < tl.ok.Load() {
		t.Errorf("counter = %d < %d acknowledged increments: acknowledged writes were lost", got, tl.ok.Load())
	}
	// Each node listens again (its log says so a second time), and a logout
	// on one is refused by all.
	for _, nd := range nodes {
		waitFor(t, func() bool { return strings.Count(nd.logs.String(), "hearing revocations from the other nodes") >= 2 },
			nd.name+" hearing revocations again")
	}
	out := do(t.Context(), hc, http.MethodPost, nodes[2].url+"/v2/session/logout", "Bearer "+tok, `{"token":"`+tok+`"}`)
	if out.status != http.StatusOK {
		t.Fatalf("logout after the restart = %d %q", out.status, out.body)
	}
	for _, nd := range nodes {
		waitFor(t, func() bool { return userRPC(t.Context(), hc, nd, tok, "whoami", "").status == http.StatusUnauthorized },
			nd.name+" refusing the session logged out after the restart")
	}
}
