package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The attacks of TestServer_sandbox on the host and the HTTP API: plugin
// loading and reloading, WebAssembly tables, plugin files, the sign-up
// limiter and plugin routes.

// Finding 3: on a reload, a newcomer file that sorts before a serving
// plugin registers its server-only RPC's id (in other case, without the
// flag) and evicts it, so that session users reach the newcomer.
func testReloadEviction(t *testing.T, a *arena) {
	tg := a.start(t, []string{bundled("echo"), attack("srv")}, "-watch", "0")
	user := map[string]string{"Authorization": "Bearer " + token(t, aliceID, "mallory", time.Now().Add(time.Hour))}
	check := func(when string) {
		t.Helper()
		res, err := send("POST", tg.base+"/v2/rpc/srv?unwrap", "", user, 10*time.Second)
		if err != nil || res.Status != 403 {
			t.Fatalf("%s: a session user's call of the server-only srv: %d %q %v, want 403", when, res.Status, res.Body, err)
		}
		res, err = tg.rpc("srv", "")
		if err != nil || res.Status != 200 || res.Body != "srv-guarded" {
			t.Fatalf("%s: the server's call of srv: %d %q %v, want srv.wasm's answer", when, res.Status, res.Body, err)
		}
	}
	check("before the reload")
	tg.deploy(t, attack("evict"), "evict.wasm") // "evict" sorts before "srv"
	tg.reload(t)
	check("after the reload")
	tg.alive(t)
}

// Finding 4: a module's table is unbounded by its own declaration: one
// declared with 2^27 entries and filled in init, or grown by 64 Mi entries
// at run time, costs a GiB or half of one per instance.
func testTables(t *testing.T, a *arena) {
	for _, tt := range []struct{ name, plugin string }{
		{"Declared", "bigtable"},
		{"Grown", "growtable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg := a.start(t, []string{bundled("echo")}, "-watch", "0")
			tg.boundedMemory(t, func() {
				tg.deploy(t, attack(tt.plugin), tt.plugin+".wasm")
				tg.reload(t)
				for range 2 {
					if res, err := tg.rpc(tt.plugin, ""); err != nil {
						t.Errorf("%s: %v%s", tt.plugin, err, a.dog.note(tg.pid()))
					} else {
						t.Logf("%s: %d %q", tt.plugin, res.Status, res.Body)
					}
				}
			})
		})
	}
}

// Findings 9, 10 and 11: a plugin file that is not a plain small file: a
// symbolic link to /dev/zero, a FIFO, a sparse GiB. With the file there,
// the server must start, reload by the admin endpoint and by SIGHUP, keep
// serving with bounded memory, and shut down gracefully.
func testPluginFile(t *testing.T, a *arena, name string, plant func(path string) error) {
	tg := a.prepare(t, []string{bundled("echo"), bundled("kv")}, "-watch", "0")
	if err := plant(filepath.Join(tg.plugins, name)); err != nil {
		t.Fatal(err)
	}
	tg.restart(t)
	if peak := a.dog.peakRSS(tg.pid()); peak > rssStartLimit {
		t.Errorf("the server's RSS peaked at %d MiB at start, more than %d MiB", peak>>20, rssStartLimit>>20)
	}
	tg.alive(t)
	tg.boundedMemory(t, func() {
		tg.reload(t)
		// A new plugin shows that the reload by SIGHUP finished.
		tg.deploy(t, attack("srv"), "srv.wasm")
		if err := tg.p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if res, err := tg.rpc("srv", ""); err == nil && res.Body == "srv-guarded" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the reload by SIGHUP did not load srv.wasm in 20s%s", a.dog.note(tg.pid()))
			}
		}
	})
	if err := tg.p.stop(); err != nil {
		t.Fatalf("graceful shutdown: %v\n%s", err, tg.p.logs.String())
	}
}

// sparseFile creates a file of size bytes that holds no data blocks.
func sparseFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(f.Truncate(size), f.Close())
}

// Findings 12 and 13: sign-ups, and sign-ups that probe for a taken
// username (409), from one address are not limited. A flood of each, each
// from its own loopback address, must eventually be answered 429, while
// the echo RPC keeps answering other clients.
func testSignupLimit(t *testing.T, a *arena) {
	tg := a.start(t, []string{bundled("echo")})
	if _, err := tg.login("taken-custom-id", "takenname"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	probeErr := make(chan error, 1)
	go func() {
		defer close(probeErr)
		repeatUntil(stop, 20*time.Millisecond, func() bool {
			err := probe(tg.base)
			if err != nil {
				probeErr <- err
			}
			return err == nil
		})
	}()
	for _, tt := range []struct {
		name, from string
		username   func(i int) string
	}{
		{"F12_Signups", "127.0.0.2", func(i int) string { return fmt.Sprintf("flood%03d", i) }},
		{"F13_TakenUsernameProbes", "127.0.0.3", func(int) string { return "takenname" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			from := &net.TCPAddr{IP: net.ParseIP(tt.from)}
			statuses := map[int]int{}
			for i := range 100 {
				res, err := sendFrom(from, "POST", fmt.Sprintf("%s/v2/account/authenticate/custom?create=true&username=%s", tg.base, tt.username(i)),
					fmt.Sprintf(`{"id":"%s-custom-%03d"}`, tt.name, i), map[string]string{"Authorization": "Basic " + basic(testServerKey)}, 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				statuses[res.Status]++
				if res.Status == 429 {
					t.Logf("429 after %d attempts: %v", i+1, statuses)
					return
				}
			}
			t.Fatalf("100 attempts from %s, none refused with 429: statuses %v", tt.from, statuses)
		})
	}
	close(stop)
	if err := <-probeErr; err != nil {
		t.Errorf("the echo RPC stopped answering during the flood: %v", err)
	}
	tg.alive(t)
}

// Finding 14: a plugin route with parameters in every segment catches
// requests under Warden's reserved prefixes that Warden's own routes do not
// match (another method, another depth).
func testReservedRoutes(t *testing.T, a *arena) {
	const marker = "PLUGIN-ROUTE-ANSWERED"
	tg := a.start(t, []string{bundled("echo")}, "-watch", "0")
	for _, tt := range []struct {
		name, plugin, outside string
		reqs                  [][2]string
	}{
		{"FourParameters", "routes4", "/a/b/c/d", [][2]string{{"PUT", "/v2/rpc/a/b"}, {"GET", "/v2/account/authenticate/custom"}, {"GET", "/_warden/plugins/x/y"}}},
		{"RPCSecret", "routes3", "/a/rpc/secret", [][2]string{{"PUT", "/v2/rpc/secret"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg.deploy(t, attack(tt.plugin), tt.plugin+".wasm")
			defer func() { _ = os.Remove(filepath.Join(tg.plugins, tt.plugin+".wasm")); tg.reload(t) }()
			tg.reload(t)
			// Outside the reserved prefixes the plugin may serve, if it loaded.
			if res, err := send("GET", tg.base+tt.outside, "", nil, 10*time.Second); err == nil {
				t.Logf("GET %s: %d %q", tt.outside, res.Status, res.Body)
			}
			for _, r := range tt.reqs {
				res, err := send(r[0], tg.base+r[1], "", nil, 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(res.Body, marker) {
					t.Errorf("%s %s was answered by the plugin: %d %q", r[0], r[1], res.Status, res.Body)
				}
			}
		})
	}
	tg.alive(t)
}
