package host

import (
	"context"
	"database/sql"
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

// probe runs sql through the sqlprobe fixture's rpc (exec or query) and
// returns the host function's result (rows affected, result length, or
// -status) and what followed it: the encoded rows or the error message.
func probe(t *testing.T, h *Host, rpc, sql string) (int64, []byte) {
	t.Helper()
	res, err := h.Call(context.Background(), &Request{ID: rpc, Payload: []byte(sql)})
	if err != nil {
		t.Fatalf("%s %q: %v", rpc, sql, err)
	}
	if len(res.Output) < 8 {
		t.Fatalf("%s %q: output %q is too short", rpc, sql, res.Output)
	}
	return int64(binary.LittleEndian.Uint64(res.Output)), res.Output[8:]
}

// probeRows runs a query that must succeed and returns its rows.
func probeRows(t *testing.T, h *Host, sql string) [][]abi.Value {
	t.Helper()
	n, rest := probe(t, h, "query", sql)
	if n < 0 {
		t.Fatalf("query %q: status %d: %s", sql, n, rest)
	}
	_, rows, err := abi.DecodeRows(rest)
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return rows
}

// kvCall calls one of the kv plugin's RPCs and returns its output.
func kvCall(t *testing.T, h *Host, rpc, payload string) (string, error) {
	t.Helper()
	res, err := h.Call(context.Background(), &Request{ID: rpc, Payload: []byte(payload)})
	return string(res.Output), err
}

// TestHost_pluginDatabases checks that a plugin reaches only its own
// database: the sqlprobe fixture runs SQL against the kv plugin's table and
// Warden's, and gets "no such table", while kv's data stays intact.
func TestHost_pluginDatabases(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "sqlprobe.wasm", "../../plugins/kv/kv.wasm"), nil)
	if _, err := kvCall(t, h, "kv_put", `{"key":"k","value":"secret"}`); err != nil {
		t.Fatal(err)
	}
	attacks := []struct{ name, rpc, sql string }{
		{"read", "query", "SELECT * FROM kv_entries"},
		{"insert", "exec", "INSERT INTO kv_entries (owner, name, value, updated_at) VALUES ('', 'x', 'evil', 0)"},
		{"update", "exec", "UPDATE kv_entries SET value = 'evil'"},
		{"delete", "exec", "DELETE FROM kv_counters"},
		{"drop", "exec", "DROP TABLE kv_entries"},
		{"wardenUsers", "query", "SELECT * FROM warden_users"},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			n, msg := probe(t, h, a.rpc, a.sql)
			if n >= 0 {
				t.Fatalf("%q succeeded (%d), want it refused", a.sql, n)
			}
			if s := abi.Status(n); s != abi.StatusDBError && s != abi.StatusNotAllowed {
				t.Fatalf("%q: status %d (%s), want DB_ERROR or NOT_ALLOWED", a.sql, n, msg)
			}
			if abi.Status(n) == abi.StatusDBError && !strings.Contains(string(msg), "no such table") {
				t.Fatalf("%q: %s, want no such table", a.sql, msg)
			}
		})
	}
	t.Run("schema", func(t *testing.T) {
		for _, r := range probeRows(t, h, "SELECT name FROM sqlite_schema") {
			t.Errorf("sqlprobe sees %v in its schema, want an empty database", r[0])
		}
	})
	t.Run("own", func(t *testing.T) {
		for _, q := range []string{"CREATE TABLE sqlprobe_t (a)", "INSERT INTO sqlprobe_t VALUES (42)"} {
			if n, msg := probe(t, h, "exec", q); n < 0 {
				t.Fatalf("%q: status %d: %s", q, n, msg)
			}
		}
		if rows := probeRows(t, h, "SELECT a FROM sqlprobe_t"); len(rows) != 1 || rows[0][0] != int64(42) {
			t.Fatalf("own table rows = %v, want [[42]]", rows)
		}
	})
	if out, err := kvCall(t, h, "kv_get", `{"key":"k"}`); err != nil || out != `{"key":"k","value":"secret"}` {
		t.Fatalf("kv_get after the attacks = %s, %v; want the value intact", out, err)
	}
}

// writeLocked reports whether a connection holds the write lock of the
// SQLite file at path: BEGIN IMMEDIATE on a new connection is refused.
func writeLocked(t *testing.T, path string) bool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return true
	}
	_ = tx.Rollback()
	return false
}

// holders runs n calls of the sqlprobe fixture's rpc (hold_write or
// hold_read) with sql, each holding its transaction until the call's
// deadline, and returns a channel closed when all have returned.
func holders(h *Host, n int, rpc, sql string) <-chan struct{} {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { _, _ = h.Call(context.Background(), &Request{ID: rpc, Payload: []byte(sql)}) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// contentionHost serves sqlprobe beside kv with a long call deadline, so
// that a held transaction outlasts what another plugin's calls need even on
// a loaded machine; the tests end the holders by closing the host.
func contentionHost(t *testing.T) *Host {
	h := newTestHost(t, pluginDir(t, "sqlprobe.wasm", "../../plugins/kv/kv.wasm"), func(c *Config) {
		c.Logger = zerolog.Nop()
		c.CallTimeout = time.Minute
		c.MaxInstances = 8
	})
	if n, msg := probe(t, h, "exec", "CREATE TABLE sqlprobe_t (a)"); n < 0 {
		t.Fatalf("create: %d %s", n, msg)
	}
	return h
}

// TestHost_pluginDatabases_heldWrite checks that a plugin holding a write
// transaction until its deadline does not hold up another plugin's writes:
// kv_put completes while the holder still holds its transaction.
func TestHost_pluginDatabases_heldWrite(t *testing.T) {
	h := contentionHost(t)
	done := holders(h, 1, "hold_write", "INSERT INTO sqlprobe_t VALUES (1)")
	path := pluginDBPath(t, h, "sqlprobe")
	for end := time.Now().Add(10 * time.Second); !writeLocked(t, path); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the holder did not take the write lock")
		}
	}
	if _, err := kvCall(t, h, "kv_put", `{"key":"k","value":"v"}`); err != nil {
		t.Fatalf("kv_put beside a held write transaction: %v", err)
	}
	if !writeLocked(t, path) {
		t.Fatal("kv_put waited for the held write transaction to end")
	}
	_ = h.Close(context.Background()) // ends the holder's call
	<-done
}

// TestHost_pluginDatabases_heldReads checks that four held read
// transactions of one plugin do not starve another plugin's reads.
func TestHost_pluginDatabases_heldReads(t *testing.T) {
	h := contentionHost(t)
	if _, err := kvCall(t, h, "kv_put", `{"key":"k","value":"v"}`); err != nil {
		t.Fatal(err)
	}
	done := holders(h, 4, "hold_read", "SELECT * FROM sqlprobe_t")
	time.Sleep(500 * time.Millisecond) // a head start; the assertion does not depend on it
	if out, err := kvCall(t, h, "kv_get", `{"key":"k"}`); err != nil || out != `{"key":"k","value":"v"}` {
		t.Fatalf("kv_get beside four held reads = %s, %v", out, err)
	}
	select {
	case <-done:
		t.Fatal("kv_get waited for the held read transactions to end")
	default:
	}
	_ = h.Close(context.Background()) // ends the holders' calls
	<-done
}

// pluginDBPath is the file of plugin name's database.
func pluginDBPath(t *testing.T, h *Host, name string) string {
	t.Helper()
	path, err := h.cfg.Databases.(*storage.Dir).Path(name)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHost_pluginDatabases_reload checks that a new version of a plugin
// gets the same database, that a removed plugin's file is kept, that a
// plugin without db imports gets none, and that a name unfit for a file is
// refused.
func TestHost_pluginDatabases_reload(t *testing.T) {
	dir := pluginDir(t, "sqlprobe.wasm", "web.wasm")
	h := newTestHost(t, dir, nil)
	if n, msg := probe(t, h, "exec", "CREATE TABLE sqlprobe_t (a); "); n < 0 {
		t.Fatalf("create: %d %s", n, msg)
	}
	if n, msg := probe(t, h, "exec", "INSERT INTO sqlprobe_t VALUES ('v1')"); n < 0 {
		t.Fatalf("insert: %d %s", n, msg)
	}
	// A new version: the same module with a custom section appended.
	v2 := append(fixture(t, "sqlprobe.wasm"), 0, 4, 2, 'v', '2', 1)
	deploy(t, dir, "sqlprobe", v2)
	if res, err := h.Reload(context.Background()); err != nil || len(res.Loaded) != 1 {
		t.Fatalf("reload = %+v, %v; want sqlprobe's new version loaded", res, err)
	}
	if rows := probeRows(t, h, "SELECT a FROM sqlprobe_t"); len(rows) != 1 || rows[0][0] != "v1" {
		t.Fatalf("the new version sees %v, want the old version's row", rows)
	}
	path := pluginDBPath(t, h, "sqlprobe")
	if err := os.Remove(filepath.Join(dir, "sqlprobe.wasm")); err != nil {
		t.Fatal(err)
	}
	if res, err := h.Reload(context.Background()); err != nil || len(res.Removed) != 1 {
		t.Fatalf("reload = %+v, %v; want sqlprobe removed", res, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the removed plugin's database: %v", err)
	}
	if _, err := os.Stat(pluginDBPath(t, h, "web")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("web, which imports no db function, has a database file (%v)", err)
	}
	deploy(t, dir, "bad name", fixture(t, "sqlprobe.wasm"))
	res, err := h.Reload(context.Background())
	if err != nil || len(res.Failed) != 1 || !errors.Is(res.Failed[0].Err, storage.ErrBadName) {
		t.Fatalf("reload with a plugin named %q = %+v, %v; want it refused with ErrBadName", "bad name", res, err)
	}
}

// TestHost_pluginDatabases_wideNullRows: a value costs the host memory
// whatever its size, so a query of wide rows of NULLs is bounded by the
// result limit as one of large values is. 600 rows of 2,000 NULLs (SQLite's
// most columns) are 1.2 million values from a 10 KB statement; counted at
// nothing each, the host held them all and answered a 1.2 MB result.
func TestHost_pluginDatabases_wideNullRows(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "sqlprobe.wasm"), nil)
	sql := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 600) SELECT " +
		strings.Repeat("NULL, ", 1999) + "NULL FROM c"
	if n, rest := probe(t, h, "query", sql); n != int64(abi.StatusLimitExceeded) {
		t.Fatalf("600 rows of 2,000 NULLs: db_query returned %d (%d bytes), want LIMIT_EXCEEDED (%d)", n, len(rest), abi.StatusLimitExceeded)
	}
	if rows := probeRows(t, h, "SELECT NULL, ''"); len(rows) != 1 || len(rows[0]) != 2 {
		t.Fatalf("a narrow row after the refusal: %v", rows)
	}
}
