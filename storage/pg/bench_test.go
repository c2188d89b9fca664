package pg_test

import (
	"context"
	"errors"
	"flag"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// putSQL is the kv plugin's kv_put statement.
const putSQL = `INSERT INTO kv_entries (owner, name, value, updated_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (owner, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`

// kvSchema is the kv plugin's table.
const kvSchema = `CREATE TABLE IF NOT EXISTS kv_entries (
    owner TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner, name))`

// benchmarkPut runs kv_put's upsert, one autocommit statement per
// operation, through sessions of dbs, from parallel goroutines; with tx,
// each in a write transaction of its own (Begin, Exec, Commit), where a
// statement or commit that PostgreSQL refuses as a serialization failure
// (ErrBusy) is not retried.
func benchmarkPut(b *testing.B, dbs storage.Databases, tx bool) {
	h, err := dbs.ForPlugin(context.Background(), "kv")
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	s := h.NewSession()
	if _, err := s.Exec(context.Background(), kvSchema, nil); err != nil {
		b.Fatal(err)
	}
	s.Close()
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(p *testing.PB) {
		s := h.NewSession()
		defer s.Close()
		for p.Next() {
			i := n.Add(1)
			args := []any{"user", "key" + strconv.FormatInt(i%1000, 10), "value", i}
			if err := put(s, args, tx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// put runs one kv_put, in a transaction of its own if tx is set.
func put(s storage.PluginSession, args []any, tx bool) error {
	ctx := context.Background()
	if !tx {
		_, err := s.Exec(ctx, putSQL, args)
		return err
	}
	if err := s.Begin(ctx, true); err != nil {
		return err
	}
	if _, err := s.Exec(ctx, putSQL, args); err != nil {
		_ = s.Rollback(ctx)
		if errors.Is(err, storage.ErrBusy) {
			return nil
		}
		return err
	}
	if err := s.Commit(ctx); err != nil && !errors.Is(err, storage.ErrBusy) {
		return err
	}
	return nil
}

// BenchmarkSession_put compares the engines on kv_put's statement, in one
// run: SQLite (group commit, synchronous=NORMAL) and PostgreSQL (a
// SERIALIZABLE transaction per statement, with SET LOCAL ROLE), the latter
// without a bound on the plugin's schema and with the server's
// (storage.DefaultMaxPluginDBBytes). Without WARDEN_TEST_POSTGRES the
// postgres cases are skipped.
func BenchmarkSession_put(b *testing.B) {
	b.Run("engine=sqlite", func(b *testing.B) {
		dir, err := storage.OpenDir(filepath.Join(b.TempDir(), "db"), storage.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer dir.Close()
		benchmarkPut(b, dir, false)
	})
	b.Run("engine=postgres", func(b *testing.B) {
		db, _ := open(b, pg.Options{})
		benchmarkPut(b, db, false)
	})
	b.Run("engine=postgres,bound=default", func(b *testing.B) {
		db, _ := open(b, pg.Options{MaxBytes: storage.DefaultMaxPluginDBBytes})
		benchmarkPut(b, db, false)
	})
}

// BenchmarkSession_putTx is BenchmarkSession_put on PostgreSQL with each
// statement in a write transaction of the plugin's (Begin, Exec, Commit),
// the path whose Begin and Commit differ from autocommit's, with the
// server's bound on the plugin's schema (storage.DefaultMaxPluginDBBytes)
// and without.
func BenchmarkSession_putTx(b *testing.B) {
	pgtest.EachBound(b, func(b *testing.B, maxBytes int64) {
		db, _ := open(b, pg.Options{MaxBytes: maxBytes})
		benchmarkPut(b, db, true)
	})
}

// TestBenchmarkSession_put runs the benchmark once per engine
// (-benchtime=1x, as CI runs benchmarks), so that it keeps working.
func TestBenchmarkSession_put(t *testing.T) {
	bt := flag.Lookup("test.benchtime")
	old := bt.Value.String()
	if err := bt.Value.Set("1x"); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bt.Value.Set(old) }()
	for _, bench := range []func(*testing.B){BenchmarkSession_put, BenchmarkSession_putTx} {
		if res := testing.Benchmark(bench); res.N == 0 {
			t.Error("the benchmark did not run")
		}
	}
}
