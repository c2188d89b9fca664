package host

import (
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage/pg"
	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// newPostgresHost starts a Host over dir with plugin data in a fresh
// PostgreSQL database (skipped without WARDEN_TEST_POSTGRES, see pgtest).
func newPostgresHost(t *testing.T, dir string) *Host {
	t.Helper()
	return newPostgresHostWith(t, dir, pg.Options{}, nil)
}

// newPostgresHostWith is newPostgresHost with the engine's options opts,
// and the host's configuration changed by edit if it is not nil.
func newPostgresHostWith(t testing.TB, dir string, opts pg.Options, edit func(*Config)) *Host {
	t.Helper()
	ctx := context.Background()
	dbs, err := pg.Open(ctx, pgtest.URL(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dbs.Close() })
	cfg := Config{
		PluginDir: dir, CacheDir: testCacheDir, Databases: dbs,
		Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel),
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

// TestHost_postgres runs the bundled kv plugin, unchanged, on PostgreSQL,
// and the sqlprobe fixture against kv's tables: its statements run as they
// do on SQLite, and the other plugin's schema stays out of reach.
func TestHost_postgres(t *testing.T) {
	h := newPostgresHost(t, pluginDir(t, "sqlprobe.wasm", "../../plugins/kv/kv.wasm"))
	calls := []struct{ rpc, payload, want string }{
		{"kv_put", `{"key":"k","value":"secret"}`, `{}`},
		{"kv_put", `{"key":"k","value":"secret 2"}`, `{}`},
		{"kv_get", `{"key":"k"}`, `{"key":"k","value":"secret 2"}`},
		{"counter_incr", `{"name":"c"}`, `{"name":"c","value":1}`},
		{"counter_incr", `{"name":"c","by":41}`, `{"name":"c","value":42}`},
	}
	for _, c := range calls {
		if out, err := kvCall(t, h, c.rpc, c.payload); err != nil || out != c.want {
			t.Fatalf("%s %s = %s, %v; want %s", c.rpc, c.payload, out, err, c.want)
		}
	}
	if _, err := kvCall(t, h, "kv_get", `{"key":"missing"}`); err == nil {
		t.Error("kv_get of a missing key succeeded")
	}
	for _, q := range []string{
		"SELECT * FROM kv_entries",
		"SELECT * FROM plugin_kv.kv_entries",
		"UPDATE plugin_kv.kv_entries SET value = 'evil'",
		"DROP TABLE plugin_kv.kv_counters",
		"RESET ROLE",
		"SELECT * FROM warden_users",
	} {
		t.Run(q, func(t *testing.T) {
			n, msg := probe(t, h, "exec", q)
			if s := abi.Status(n); s != abi.StatusDBError && s != abi.StatusNotAllowed {
				t.Fatalf("%q: %d (%s), want DB_ERROR or NOT_ALLOWED", q, n, msg)
			}
			if abi.Status(n) == abi.StatusDBError && !strings.Contains(string(msg), "does not exist") {
				t.Fatalf("%q: %s, want does not exist", q, msg)
			}
		})
	}
	if out, err := kvCall(t, h, "kv_get", `{"key":"k"}`); err != nil || out != `{"key":"k","value":"secret 2"}` {
		t.Fatalf("kv_get after the attacks = %s, %v", out, err)
	}
}

// TestHost_postgresDatabaseBound: a plugin that writes past the bound on
// its schema (pg.Options.MaxBytes, from -plugin-db-max-bytes) gets
// LIMIT_EXCEEDED, as on SQLite, and its next small write goes through.
func TestHost_postgresDatabaseBound(t *testing.T) {
	h := newPostgresHostWith(t, pluginDir(t, "sqlprobe.wasm"), pg.Options{MaxBytes: 1 << 20}, nil)
	if n, msg := probe(t, h, "exec", "CREATE TABLE t (v TEXT)"); n != 0 {
		t.Fatalf("create: %d (%s)", n, msg)
	}
	q := "INSERT INTO t SELECT repeat('x', 1000) FROM generate_series(1, 3000)" // about 3.5 MB
	if n, msg := probe(t, h, "exec", q); abi.Status(n) != abi.StatusLimitExceeded {
		t.Fatalf("3.5 MB under a bound of 1 MiB: %d (%s), want LIMIT_EXCEEDED", n, msg)
	}
	if n, msg := probe(t, h, "exec", "INSERT INTO t VALUES ('small')"); n != 1 {
		t.Fatalf("a small insert after the refusal: %d (%s), want 1 row", n, msg)
	}
}
