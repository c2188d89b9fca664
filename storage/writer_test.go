package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage"
)

// TestWriter_groupCommit checks that concurrent autocommit writes share
// COMMITs (SQLite commits fewer transactions than there are writes), and
// that every acknowledged write is there, also after a reopen.
func TestWriter_groupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "warden.db")
	db := openAt(t, path, storage.Options{})
	mustExec(t, session(t, db), "CREATE TABLE t(k TEXT PRIMARY KEY, v INTEGER)")
	commits := storage.CountCommits(t, db)
	const writers, each = 32, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for g := range writers {
		wg.Go(func() {
			s := db.NewSession()
			defer s.Close()
			for i := range each {
				if _, err := s.Exec(context.Background(), "INSERT INTO t VALUES ($1, $2)", []any{fmt.Sprintf("%d-%d", g, i), int64(i)}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := count(t, db, "t"); n != writers*each {
		t.Fatalf("%d rows, want %d", n, writers*each)
	}
	if c := commits.Load(); c == 0 || c >= writers*each {
		t.Fatalf("%d writes in %d commits, want them sharing commits", writers*each, c)
	}
	t.Logf("%d writes in %d commits", writers*each, commits.Load())
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, path, storage.Options{})
	if n := count(t, db, "t"); n != writers*each {
		t.Fatalf("%d rows after reopening, want %d", n, writers*each)
	}
}

// groupOf runs the writes concurrently while the committer waits, so that
// they share one group, and returns each one's error. The writes start
// 100 ms apart, in order, and the committer waits 3 s: the margins are for
// a loaded machine under -race, where a goroutine can start a second late.
func groupOf(t *testing.T, db *storage.DB, writes ...func(context.Context, *storage.Session) error) []error {
	t.Helper()
	storage.SetCommitDelay(db, 3*time.Second)
	defer storage.SetCommitDelay(db, 0)
	errs := make([]error, len(writes))
	var wg sync.WaitGroup
	for i, w := range writes {
		wg.Go(func() {
			// Later writes start later, so that the earlier ones are in the
			// group when they run.
			time.Sleep(time.Duration(i) * 100 * time.Millisecond)
			s := db.NewSession()
			defer s.Close()
			errs[i] = w(context.Background(), s)
		})
	}
	wg.Wait()
	return errs
}

// insertRow returns a write of row (k, v) in t.
func insertRow(query, k string, v int64) func(context.Context, *storage.Session) error {
	return func(ctx context.Context, s *storage.Session) error {
		_, err := s.Exec(ctx, query, []any{k, v})
		return err
	}
}

// TestWriter_failureStaysAlone checks that writes sharing a group fail
// alone: a constraint violation is undone by itself, and a statement whose
// failure rolls back the whole transaction (ON CONFLICT ROLLBACK, or an
// interrupt at its deadline) does not take the others with it.
func TestWriter_failureStaysAlone(t *testing.T) {
	db := openDB(t, storage.Options{})
	mustExec(t, session(t, db), "CREATE TABLE t(k TEXT PRIMARY KEY, v INTEGER)")
	mustExec(t, session(t, db), "INSERT INTO t VALUES ('taken', 0)")
	const ins = "INSERT INTO t VALUES ($1, $2)"
	endless := func(ctx context.Context, s *storage.Session) error {
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := s.Exec(ctx, `INSERT INTO t SELECT 'x' || x, x FROM
			(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c)`, nil)
		return err
	}
	tests := []struct {
		name    string
		culprit func(context.Context, *storage.Session) error
		want    error // errSQL or a context error
	}{
		{"Constraint", insertRow(ins, "taken", 1), errSQL},
		{"OrRollback", insertRow("INSERT OR ROLLBACK INTO t VALUES ($1, $2)", "taken", 1), errSQL},
		{"Interrupted", endless, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := groupOf(t, db,
				insertRow(ins, tt.name+"-a", 1),
				insertRow(ins, tt.name+"-b", 2),
				tt.culprit,
				insertRow(ins, tt.name+"-c", 3))
			for i, err := range errs {
				if i == 2 {
					checkErr(t, err, tt.want)
				} else if err != nil {
					t.Errorf("write %d: %v", i, err)
				}
			}
			if n := count(t, db, "t WHERE k LIKE '"+tt.name+"-%'"); n != 3 {
				t.Errorf("%d of the 3 good writes committed", n)
			}
			if n := count(t, db, "t WHERE k = 'taken' AND v = 0"); n != 1 {
				t.Errorf("the taken row changed")
			}
			if n := count(t, db, "t WHERE k LIKE 'x%'"); n != 0 {
				t.Errorf("the interrupted insert left %d rows", n)
			}
		})
	}
}

// TestWriter_sharesWithTransactions checks that write transactions and
// Warden's own statements wait for an open group instead of failing, and
// that plugin statements stay refused once the writer has prepared
// BEGIN and COMMIT on the connection.
func TestWriter_sharesWithTransactions(t *testing.T) {
	db := openDB(t, storage.Options{})
	mustExec(t, session(t, db), "CREATE TABLE t(k TEXT PRIMARY KEY, v INTEGER)")
	errs := groupOf(t, db,
		insertRow("INSERT INTO t VALUES ($1, $2)", "a", 1),
		func(ctx context.Context, s *storage.Session) error {
			if err := s.Begin(ctx, true); err != nil {
				return err
			}
			if _, err := s.Exec(ctx, "UPDATE t SET v = v + 10 WHERE k = 'a'", nil); err != nil {
				return err
			}
			return s.Commit(ctx)
		},
		func(ctx context.Context, _ *storage.Session) error {
			_, err := db.Writer().ExecContext(ctx, "CREATE TABLE IF NOT EXISTS warden_x(a)")
			return err
		})
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if n := count(t, db, "t WHERE k = 'a' AND v = 11"); n != 1 {
		t.Fatal("the transaction did not see or update the group's write")
	}
	s := session(t, db)
	for _, q := range []string{"BEGIN IMMEDIATE", "COMMIT", "SELECT * FROM warden_x"} {
		for range 2 {
			if _, err := s.Exec(context.Background(), q, nil); !errors.Is(err, storage.ErrNotAllowed) {
				t.Errorf("Exec(%q) = %v, want ErrNotAllowed", q, err)
			}
		}
	}
}

// TestSession_cachedStatementRecheck checks that a statement prepared once
// is authorized again when a schema change makes SQLite prepare it anew.
func TestSession_cachedStatementRecheck(t *testing.T) {
	db := policyDB(t)
	s := session(t, db)
	mustExec(t, s, "CREATE VIEW v AS SELECT a FROM t")
	for range 2 {
		mustQuery(t, s, "SELECT * FROM v")
		mustExec(t, s, "INSERT INTO t SELECT * FROM v")
	}
	mustExec(t, s, "DROP VIEW v")
	mustExec(t, s, "CREATE VIEW v AS SELECT k AS a FROM warden_kv")
	if _, err := s.Query(context.Background(), "SELECT * FROM v", nil); !errors.Is(err, storage.ErrNotAllowed) {
		t.Errorf("Query through the changed view = %v, want ErrNotAllowed", err)
	}
	if _, err := s.Exec(context.Background(), "INSERT INTO t SELECT * FROM v", nil); !errors.Is(err, storage.ErrNotAllowed) {
		t.Errorf("Exec through the changed view = %v, want ErrNotAllowed", err)
	}
}

// TestDB_Close_removesWAL checks that Close closes every connection for
// real, statements prepared on them included: SQLite then checkpoints the
// WAL into the database file and deletes it, so that the file alone is the
// whole database once Warden has stopped.
func TestDB_Close_removesWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "warden.db")
	db, err := storage.Open(context.Background(), path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := db.NewSession()
	mustExec(t, s, "CREATE TABLE t(k TEXT PRIMARY KEY, v INTEGER)")
	for i := range 3 {
		mustExec(t, s, "INSERT INTO t VALUES ($1, $2)", fmt.Sprint(i), int64(i))
		mustQuery(t, s, "SELECT v FROM t WHERE k = $1", fmt.Sprint(i))
	}
	_ = s.Close()
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL while open: %v", err)
	}
	// A read transaction still open at Close keeps its connection until
	// its session ends.
	late := db.NewSession()
	if err := late.Begin(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	mustQuery(t, late, "SELECT count(*) FROM t")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_ = late.Close()
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("WAL still there after Close: %v", err)
	}
	db = openAt(t, path, storage.Options{})
	if n := count(t, db, "t"); n != 3 {
		t.Fatalf("%d rows after reopening, want 3", n)
	}
}

// txInsert returns a write transaction that inserts (k, v) and, if fail is
// set, then fails on a taken key and rolls back.
func txInsert(k string, v int64, fail bool) func(context.Context, *storage.Session) error {
	return func(ctx context.Context, s *storage.Session) error {
		if err := s.Begin(ctx, true); err != nil {
			return err
		}
		if _, err := s.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", []any{k, v}); err != nil {
			return err
		}
		if fail {
			if _, err := s.Exec(ctx, "INSERT INTO t VALUES ('taken', 9)", nil); err == nil {
				return errors.New("the taken key was inserted")
			}
			return s.Rollback(ctx)
		}
		return s.Commit(ctx)
	}
}

// TestWriter_transactionsInGroups checks that write transactions share
// group commits too: one COMMIT for a group of autocommit writes and
// transactions; a transaction rolled back leaves the others; and a
// transaction already committed into a group that another write's failure
// rolls back fails with ErrBusy (its guest saw its results, so it cannot
// be run again), while the autocommit writes are run again.
func TestWriter_transactionsInGroups(t *testing.T) {
	db := openDB(t, storage.Options{})
	mustExec(t, session(t, db), "CREATE TABLE t(k TEXT PRIMARY KEY, v INTEGER)")
	mustExec(t, session(t, db), "INSERT INTO t VALUES ('taken', 0)")
	const ins = "INSERT INTO t VALUES ($1, $2)"

	t.Run("OneCommit", func(t *testing.T) {
		commits := storage.CountCommits(t, db)
		errs := groupOf(t, db, insertRow(ins, "one-a", 1), txInsert("one-tx", 2, false), insertRow(ins, "one-c", 3))
		for i, err := range errs {
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
		if c := commits.Load(); c != 1 {
			t.Errorf("%d commits, want 1", c)
		}
		if n := count(t, db, "t WHERE k LIKE 'one-%'"); n != 3 {
			t.Errorf("%d of 3 writes committed", n)
		}
	})
	t.Run("RolledBack", func(t *testing.T) {
		errs := groupOf(t, db, insertRow(ins, "rb-a", 1), txInsert("rb-tx", 2, true), insertRow(ins, "rb-c", 3))
		for i, err := range errs {
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
		if n := count(t, db, "t WHERE k IN ('rb-a', 'rb-c')"); n != 2 {
			t.Errorf("%d of the 2 autocommit writes committed", n)
		}
		if n := count(t, db, "t WHERE k = 'rb-tx'"); n != 0 {
			t.Error("the rolled back transaction's row is there")
		}
	})
	t.Run("GroupLost", func(t *testing.T) {
		errs := groupOf(t, db,
			insertRow(ins, "lost-a", 1),
			txInsert("lost-tx", 2, false),
			insertRow("INSERT OR ROLLBACK INTO t VALUES ($1, $2)", "taken", 1),
			insertRow(ins, "lost-c", 3))
		checkErr(t, errs[0], nil)
		checkErr(t, errs[1], storage.ErrBusy)
		checkErr(t, errs[2], errSQL)
		checkErr(t, errs[3], nil)
		if n := count(t, db, "t WHERE k IN ('lost-a', 'lost-c')"); n != 2 {
			t.Errorf("%d of the 2 autocommit writes committed", n)
		}
		if n := count(t, db, "t WHERE k = 'lost-tx'"); n != 0 {
			t.Error("the lost transaction's row is there, though it failed")
		}
	})
}
