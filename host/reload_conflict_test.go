package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// alice is a session user: she may not call a server-only RPC.
var alice = &User{ID: "8f4e6a52-3b1c-4c1e-9d59-5c3f0a3b7e21", Username: "alice"}

// checkSrvGuarded checks that srv serves with its server-only guard: a
// user's call of "srv" (any case) is refused with code 7, a server call
// answers "srv", and its other RPC answers.
func checkSrvGuarded(t *testing.T, h *Host) {
	t.Helper()
	for _, id := range []string{"srv", "SRV"} {
		if ce := callErr(t, h, &Request{ID: id, User: alice}); ce.Code != abi.CodePermissionDenied {
			t.Fatalf("user call of %s: %v, want code 7 (server-only)", id, ce)
		}
	}
	for _, id := range []string{"srv", "srv_other"} {
		res, err := h.Call(context.Background(), &Request{ID: id})
		if err != nil || string(res.Output) != "srv" || res.Plugin != "srv" {
			t.Fatalf("server call of %s: %q from %s, %v; want srv serving", id, res.Output, res.Plugin, err)
		}
	}
}

// TestHost_Reload_servingWins drops a file that registers "SRV" without
// the server-only flag beside a serving srv that has it, under names that
// sort before and after srv, and in a subfolder of its own: each time the
// newcomer is refused and named, and srv keeps serving with its guard.
func TestHost_Reload_servingWins(t *testing.T) {
	for _, name := range []string{"a_open", "z_open", "a_open/a_open"} {
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			dir := t.TempDir()
			deploy(t, dir, "srv", fixture(t, "reload/srv.wasm"))
			h := newTestHost(t, dir, nil)
			checkSrvGuarded(t, h)
			if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
				t.Fatal(err)
			}
			deploy(t, dir, name, fixture(t, "reload/srv_open.wasm"))
			for range 2 { // a second reload of the same files changes nothing
				res, err := h.Reload(context.Background())
				if err != nil || len(res.Failed) != 1 || len(res.Loaded) != 0 || len(res.Removed) != 0 {
					t.Fatalf("reload: %+v %v, want only the newcomer refused", res, err)
				}
				f := res.Failed[0]
				if f.Plugin != filepath.Base(name) || f.Path != filepath.Join(dir, name+".wasm") ||
					!strings.Contains(f.Err.Error(), `rpc "srv" is registered by both plugin srv and plugin `+filepath.Base(name)) {
					t.Fatalf("failure %+v, want the newcomer named", f)
				}
				checkSrvGuarded(t, h)
			}
			errs := h.LoadErrors()
			if len(errs) != 1 || errs[0].Path != filepath.Join(dir, name+".wasm") || len(errs[0].RPCs) != 1 || errs[0].RPCs[0] != "srv" {
				t.Fatalf("LoadErrors() = %+v, want the newcomer with its rpc srv", errs)
			}
		})
	}
}

// TestHost_Reload_changedVersionConflicts replaces a serving plugin's file
// with a version that registers another serving plugin's RPC: it is
// refused, its old version keeps serving, and srv keeps its guard.
func TestHost_Reload_changedVersionConflicts(t *testing.T) {
	dir := t.TempDir()
	deploy(t, dir, "a", fixture(t, "reload/ver_v1.wasm"))
	deploy(t, dir, "srv", fixture(t, "reload/srv.wasm"))
	h := newTestHost(t, dir, nil)
	deploy(t, dir, "a", fixture(t, "reload/srv_open.wasm"))
	res, err := h.Reload(context.Background())
	if err != nil || len(res.Failed) != 1 || res.Failed[0].Plugin != "a" || len(res.Loaded) != 0 {
		t.Fatalf("reload: %+v %v, want a's new version refused", res, err)
	}
	checkSrvGuarded(t, h)
	if out, err := h.Call(context.Background(), &Request{ID: "ver"}); err != nil || string(out.Output) != "v1" {
		t.Fatalf("a's old version: %q %v, want v1", out.Output, err)
	}
	// A version of a that conflicts with nothing replaces it.
	deploy(t, dir, "a", fixture(t, "reload/ver_v2.wasm"))
	if res, err := h.Reload(context.Background()); err != nil || len(res.Failed) != 0 || len(res.Loaded) != 1 {
		t.Fatalf("reload: %+v %v", res, err)
	}
	if errs := h.LoadErrors(); len(errs) != 0 {
		t.Fatalf("LoadErrors() = %+v after a's good version loaded, want none", errs)
	}
	checkSrvGuarded(t, h)
}

// TestHost_Reload_sequences runs reload sequences that move the open and
// the server-only registrations of "srv" around; whenever srv.wasm's
// plugin served before a step and its file is unchanged, it still serves
// with its guard after it.
func TestHost_Reload_sequences(t *testing.T) {
	srv, open := fixture(t, "reload/srv.wasm"), fixture(t, "reload/srv_open.wasm")
	type step struct {
		file string
		wasm []byte // nil removes the file
	}
	sequences := [][]step{
		{{"a", open}, {"a", nil}, {"b", open}, {"srv", srv}},
		{{"srv", open}, {"srv", srv}, {"a", open}, {"srv", open}},
		{{"a", srv}, {"b", open}, {"a", nil}, {"c", open}},
		{{"0", open}, {"srv", open}, {"srv", srv}, {"1", open}},
	}
	for i, seq := range sequences {
		dir := t.TempDir()
		deploy(t, dir, "srv", srv)
		h := newTestHost(t, dir, nil)
		for j, st := range seq {
			before := h.reg.Load()
			guarded := before.pluginAt(filepath.Join(dir, "srv.wasm"))
			if st.wasm == nil {
				if err := os.Remove(filepath.Join(dir, st.file+".wasm")); err != nil {
					t.Fatal(err)
				}
			} else {
				deploy(t, dir, st.file, st.wasm)
			}
			if _, err := h.Reload(context.Background()); err != nil {
				t.Fatal(err)
			}
			if guarded != nil && guarded.Version == version(srv) && st.file != "srv" {
				if h.reg.Load().pluginAt(guarded.Path) != guarded {
					t.Fatalf("sequence %d step %d: srv was displaced", i, j)
				}
				checkSrvGuarded(t, h)
			}
			// Whatever serves "srv", a user may call it only if its plugin
			// registered it without the flag.
			if e := h.reg.Load().rpcs["srv"]; e != nil && e.plugin.Version == version(srv) {
				if ce := callErr(t, h, &Request{ID: "srv", User: alice}); ce.Code != abi.CodePermissionDenied {
					t.Fatalf("sequence %d step %d: user call of srv: %v", i, j, ce)
				}
			}
		}
	}
}

// TestHost_New_tolerant starts with a broken plugin beside a good one: the
// good one serves, the broken one is listed, and an RPC that a refused
// plugin registered answers 5 with a cause that names it.
func TestHost_New_tolerant(t *testing.T) {
	dir := pluginDir(t, "bad/init_traps.wasm", "bad/dup_a.wasm", "bad/dup_b.wasm", "reload/ver_v1.wasm")
	h := newTestHost(t, dir, nil)
	if out, err := h.Call(context.Background(), &Request{ID: "ver"}); err != nil || string(out.Output) != "v1" {
		t.Fatalf("ver: %q %v", out.Output, err)
	}
	errs := h.LoadErrors()
	if len(errs) != 3 || errs[0].Plugin != "dup_a" || errs[1].Plugin != "dup_b" || errs[2].Plugin != "init_traps" {
		t.Fatalf("LoadErrors() = %+v, want dup_a, dup_b (both claim \"same\", neither serving) and init_traps", errs)
	}
	// Neither serves "same" (TestHost_contestedAtStart); init_traps
	// registered nothing.
	if ce := callErr(t, h, &Request{ID: "same"}); ce.Code != abi.CodeNotFound || !errors.Is(ce.Err, ErrPluginNotLoaded) {
		t.Fatalf("same: %v (cause %v), want code 5: its plugins did not load", ce, ce.Err)
	}
	ce := callErr(t, h, &Request{ID: "nope"})
	if ce.Code != abi.CodeNotFound || ce.Err == nil || !strings.Contains(ce.Err.Error(), "dup_a, dup_b, init_traps") {
		t.Fatalf("unknown rpc: %v (cause %v), want code 5 naming the failing plugins", ce, ce.Err)
	}
	// Once dup_a is gone, dup_b loads and serves "same".
	if err := os.Remove(filepath.Join(dir, "dup_a.wasm")); err != nil {
		t.Fatal(err)
	}
	if res, err := h.Reload(context.Background()); err != nil || len(res.Loaded) != 1 || res.Loaded[0] != "dup_b" {
		t.Fatalf("reload: %+v %v", res, err)
	}
	if errs := h.LoadErrors(); len(errs) != 1 || errs[0].Plugin != "init_traps" {
		t.Fatalf("LoadErrors() = %+v, want only init_traps", errs)
	}
	if err := os.Remove(filepath.Join(dir, "init_traps.wasm")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if errs := h.LoadErrors(); len(errs) != 0 {
		t.Fatalf("LoadErrors() = %+v after the broken file was removed, want none", errs)
	}
}

// TestHost_rpcNotFound_failingPlugin checks that a call to an RPC that
// only a refused plugin registers answers 5 with a cause that says so.
func TestHost_rpcNotFound_failingPlugin(t *testing.T) {
	dir := t.TempDir()
	deploy(t, dir, "open", fixture(t, "reload/srv_open.wasm"))
	h := newTestHost(t, dir, nil)
	// guarded registers srv, which open serves, and srv_other: refused.
	deploy(t, dir, "guarded", fixture(t, "reload/srv.wasm"))
	if res, err := h.Reload(context.Background()); err != nil || len(res.Failed) != 1 || res.Failed[0].Plugin != "guarded" {
		t.Fatalf("reload: %+v %v, want guarded refused", res, err)
	}
	ce := callErr(t, h, &Request{ID: "srv_other"})
	if ce.Code != abi.CodeNotFound || !errors.Is(ce, ErrPluginNotLoaded) || !strings.Contains(ce.Err.Error(), "plugin guarded") {
		t.Fatalf("srv_other: %v (cause %v), want code 5 caused by ErrPluginNotLoaded naming guarded", ce, ce.Err)
	}
	if ce := callErr(t, h, &Request{ID: "nope"}); errors.Is(ce, ErrPluginNotLoaded) {
		t.Fatalf("nope: %v, an id no failing plugin registers", ce.Err)
	}
}
