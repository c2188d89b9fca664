package storage

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"modernc.org/sqlite"
)

// cacheHeld returns the page cache memory db's connections hold
// (SQLITE_DBSTATUS_CACHE_USED, summed).
func cacheHeld(db *DB) (n int64) {
	db.conns.Range(func(k, _ any) bool {
		if st, ok := k.(sqlite.DBStatus); ok {
			if c, _, err := st.Status(sqlite.DBStatusCacheUsed, false); err == nil {
				n += int64(c)
			}
		}
		return true
	})
	return n
}

// TestBoundVFS_sharedPageCache: this SQLite is built with
// SQLITE_ENABLE_MEMORY_MANAGEMENT, so every page cache in the process is
// one group (pcache1's mode 2): a cache at its size takes the least
// recently used unpinned page of any other cache, another database's
// included, and reuses its buffer without allocating. The buffer stays
// charged to the budget that allocated it. So a plugin that scans (b)
// takes the pages a plugin that reads (a) allocated: a's budget counts
// them while b holds them, a's connections allocate again, and a is
// charged for memory it does not hold until it is refused for good; b
// holds pages it is not charged for. The room comes from the caches of
// the other connections in the process (here 24 idle readers of a
// database without a bound; in the server, Warden's own and every other
// plugin's): with a budget of 16 MiB, a was charged all of it after six
// rounds while its connections held 10 KiB, and every query of a failed
// with ErrLimit after; b held 20 MiB of cache charged 4.4 MiB. With the
// server's 64 MiB and 40 idle readers, a was charged 31 MiB holding 2 MiB.
// A budget must count what its own connections hold. (Since a statement
// refused for memory makes its connection give its caches back, a is
// refused once a cycle rather than for good; what its budget counts is
// checked each round.)
func TestBoundVFS_sharedPageCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func(name string, opts Options) *DB {
		db, err := Open(ctx, filepath.Join(dir, name), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	idle := open("idle.db", Options{MaxReaders: 24})
	var held []*sql.Conn
	for range 24 {
		c, err := idle.reader.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ExecContext(ctx, "SELECT * FROM sqlite_schema"); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	for _, c := range held {
		_ = c.Close()
	}
	a := open("a.db", Options{MaxMemoryBytes: 16 << 20, MaxReaders: 1})
	b := open("b.db", Options{MaxMemoryBytes: 64 << 20, MaxReaders: 1})
	fill := func(db *DB, rows int64) {
		s := db.NewSession()
		defer s.Close()
		if _, err := s.Exec(ctx, "CREATE TABLE big (v)", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Exec(ctx, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT ?) INSERT INTO big SELECT randomblob(1000) FROM c", []any{rows}); err != nil {
			t.Fatal(err)
		}
	}
	scan := func(db *DB) error {
		s := db.NewSession()
		defer s.Close()
		_, err := s.Query(ctx, "SELECT sum(length(v)) FROM big", nil)
		return err
	}
	fill(a, 8000)  // 8 MB, past a's caches
	fill(b, 24000) // 24 MB
	// a's budget grew by some 4 MiB a round while its connections held
	// 10 KiB, until it was refused and gave its caches back.
	for i := range 4 {
		if err := scan(a); err != nil {
			t.Fatalf("round %d: a's scan: %v (a's budget counts %d KiB, its connections' caches hold %d KiB; b's counts %d KiB, its caches hold %d KiB)",
				i, err, a.vfs.heap.used.Load()>>10, cacheHeld(a)>>10, b.vfs.heap.used.Load()>>10, cacheHeld(b)>>10)
		}
		if err := scan(b); err != nil {
			t.Fatalf("round %d: b's scan: %v", i, err)
		}
		if used, held := a.vfs.heap.used.Load(), cacheHeld(a); used > held+6<<20 {
			t.Fatalf("round %d: a's budget counts %d KiB, its connections' caches hold %d KiB (b's budget counts %d KiB, its caches hold %d KiB)",
				i, used>>10, held>>10, b.vfs.heap.used.Load()>>10, cacheHeld(b)>>10)
		}
	}
}
