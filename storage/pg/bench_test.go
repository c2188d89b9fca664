package pg_test

import (
	"context"
	"flag"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
)

// putSQL is the kv plugin's kv_put statement.
const putSQL = `INSERT INTO kv_entries (owner, name, value, updated_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (owner, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`

// kvSchema is the kv plugin's table.
const kvSchema = `CREATE TABLE IF NOT EXISTS kv_entries (
    owner TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner, name))`

// benchmarkPut runs kv_put's upsert, one autocommit statement per
// operation, through sessions of dbs, from parallel goroutines.
func benchmarkPut(b *testing.B, dbs storage.Databases) {
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
			if _, err := s.Exec(context.Background(), putSQL, args); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSession_put compares the engines on kv_put's statement, in one
// run: SQLite (group commit, synchronous=NORMAL) and PostgreSQL (a
// SERIALIZABLE transaction per statement, with SET LOCAL ROLE). Without
// WARDEN_TEST_POSTGRES the postgres case is skipped.
func BenchmarkSession_put(b *testing.B) {
	b.Run("engine=sqlite", func(b *testing.B) {
		dir, err := storage.OpenDir(filepath.Join(b.TempDir(), "db"), storage.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer dir.Close()
		benchmarkPut(b, dir)
	})
	b.Run("engine=postgres", func(b *testing.B) {
		db, _ := open(b, pg.Options{})
		benchmarkPut(b, db)
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
	if res := testing.Benchmark(BenchmarkSession_put); res.N == 0 {
		t.Error("the benchmark did not run")
	}
}
