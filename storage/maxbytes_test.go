package storage_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/storage"
)

// TestDB_MaxBytes: a plugin that writes until its database is full gets
// ErrLimit at Options.MaxBytes, in a transaction of its own or in a group,
// loses nothing it wrote before, can still read and delete, and the file
// stays within the bound.
func TestDB_MaxBytes(t *testing.T) {
	const limit = 1 << 20
	db := openDB(t, storage.Options{MaxBytes: limit})
	s := session(t, db)
	ctx := context.Background()
	mustExec(t, s, "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)")
	var err error
	stored := 0
	for i := range 64 { // 64 × 64 KiB = 4 MiB, four times the bound
		if _, err = s.Exec(ctx, "INSERT INTO t VALUES ($1, zeroblob(65536))", []any{int64(i)}); err != nil {
			break
		}
		stored++
	}
	if !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("after %d rows of 64 KiB: %v, want ErrLimit", stored, err)
	}
	if stored == 0 || stored*65536 > limit {
		t.Fatalf("%d rows of 64 KiB stored under a bound of %d bytes", stored, limit)
	}
	if n := count(t, db, "t"); n != int64(stored) {
		t.Fatalf("%d rows after the refusal, want the %d stored before it", n, stored)
	}
	mustExec(t, s, "DELETE FROM t WHERE k = 0")
	mustExec(t, s, "INSERT INTO t VALUES (1000, x'01')") // room again after a delete
	if fi, err := os.Stat(db.Path()); err != nil || fi.Size() > limit {
		t.Fatalf("database file: %v, %d bytes, want at most %d", err, fi.Size(), limit)
	}
	if _, err := s.Exec(ctx, "INSERT INTO t SELECT k + 2000, v FROM t", nil); !errors.Is(err, storage.ErrLimit) || !strings.Contains(err.Error(), "full") {
		t.Fatalf("a statement that doubles the table: %v, want ErrLimit saying the database is full", err)
	}
}

// TestDB_MaxBytes_inAGroup: a write that fills the database fails alone
// when it shares a group commit with others, which are kept.
func TestDB_MaxBytes_inAGroup(t *testing.T) {
	db := openDB(t, storage.Options{MaxBytes: 1 << 20})
	mustExec(t, session(t, db), "CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB)")
	const ins = "INSERT INTO t VALUES ($1, $2)"
	full := func(ctx context.Context, s *storage.Session) error {
		_, err := s.Exec(ctx, "INSERT INTO t VALUES ('full', zeroblob(2 * 1024 * 1024))", nil)
		return err
	}
	errs := groupOf(t, db, insertRow(ins, "a", 1), insertRow(ins, "b", 2), full, insertRow(ins, "c", 3))
	for i, err := range errs {
		if i == 2 {
			if !errors.Is(err, storage.ErrLimit) {
				t.Errorf("the write past the bound: %v, want ErrLimit", err)
			}
		} else if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if n := count(t, db, "t"); n != 3 {
		t.Fatalf("%d rows, want a, b and c", n)
	}
}

// TestDB_MaxBytes_pluginCannotRaiseIt: a plugin that tries to lift its
// bound with the pragma, plain or qualified, to read it through its table
// function, or to write past it into another database file, is refused,
// and the bound still holds.
func TestDB_MaxBytes_pluginCannotRaiseIt(t *testing.T) {
	db := openDB(t, storage.Options{MaxBytes: 1 << 20})
	s := session(t, db)
	ctx := context.Background()
	for _, q := range []string{
		"PRAGMA max_page_count = 1000000",
		"PRAGMA main.max_page_count = 1000000",
		"SELECT * FROM pragma_max_page_count",
		"ATTACH DATABASE 'other.db' AS other",
		"VACUUM INTO 'copy.db'",
	} {
		if _, err := s.Exec(ctx, q, nil); !errors.Is(err, storage.ErrNotAllowed) {
			t.Errorf("%s: %v, want ErrNotAllowed", q, err)
		}
	}
	mustExec(t, s, "CREATE TABLE t(v BLOB)")
	if _, err := s.Exec(ctx, "INSERT INTO t VALUES (zeroblob(2 * 1024 * 1024))", nil); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("2 MiB past a 1 MiB bound after the attempts: %v, want ErrLimit", err)
	}
}

// TestDB_MaxBytes_walHeldByReaders: a plugin that keeps one read
// transaction open at all times, each started before the last one ends
// (as overlapping calls do), while it rewrites a row over and over, keeps
// SQLite from ever restarting the write-ahead log: each write's pages are
// appended to it, and nothing bounds it. Its write-ahead log must stay
// within the database's bound too (writes past it fail with ErrLimit),
// and once the readers are gone writes work again.
func TestDB_MaxBytes_walHeldByReaders(t *testing.T) {
	const limit = 1 << 20
	const walMax = 8 << 20 // the bound, plus SQLite's own checkpoint interval and one write
	db := openDB(t, storage.Options{MaxBytes: limit})
	ctx := context.Background()
	w := session(t, db)
	mustExec(t, w, "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)")
	mustExec(t, w, "INSERT INTO t VALUES (1, x'00')")
	walSize := func() int64 {
		fi, err := os.Stat(db.Path() + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	var held *storage.Session
	refused := 0
	for i := range 400 { // 400 × 256 KiB = 100 MiB of writes
		if i%10 == 0 {
			r := db.NewSession()
			if err := r.Begin(ctx, false); err != nil {
				t.Fatal(err)
			}
			mustQuery(t, r, "SELECT k FROM t")
			if held != nil {
				_ = held.Close()
			}
			held = r
		}
		v := make([]byte, 256<<10)
		for j := range v {
			v[j] = byte(i)
		}
		if _, err := w.Exec(ctx, "UPDATE t SET v = $1", []any{v}); errors.Is(err, storage.ErrLimit) {
			refused++
		} else if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if n := walSize(); n > walMax {
			t.Fatalf("after %d writes of 256 KiB (%d refused), the write-ahead log of a database bound to %d bytes holds %d bytes", i+1, refused, limit, n)
		}
	}
	_ = held.Close()
	mustExec(t, w, "UPDATE t SET v = x'01'")
	mustExec(t, w, "UPDATE t SET v = x'02'")
	if n := walSize(); n > walMax {
		t.Fatalf("after the readers ended, the write-ahead log holds %d bytes", n)
	}
}
