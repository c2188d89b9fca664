package storage_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage"
)

// fkDB opens a database with a deferred foreign key, child.pid to
// parent.id, and a table t for other writes.
func fkDB(t *testing.T) *storage.DB {
	t.Helper()
	db := openDB(t, storage.Options{BusyTimeout: time.Minute})
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE parent(id INTEGER PRIMARY KEY)")
	mustExec(t, s, "CREATE TABLE child(pid INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
	mustExec(t, s, "CREATE TABLE t(k TEXT PRIMARY KEY, v INTEGER)")
	return db
}

// txChild returns a write transaction that inserts a child of parent id and,
// if withParent is set, the parent afterwards, which a deferred foreign key
// allows.
func txChild(id int64, withParent bool) func(context.Context, *storage.Session) error {
	return func(ctx context.Context, s *storage.Session) error {
		if err := s.Begin(ctx, true); err != nil {
			return err
		}
		if _, err := s.Exec(ctx, "INSERT INTO child VALUES ($1)", []any{id}); err != nil {
			return err
		}
		if withParent {
			if _, err := s.Exec(ctx, "INSERT INTO parent VALUES ($1)", []any{id}); err != nil {
				return err
			}
		}
		return s.Commit(ctx)
	}
}

// isFKError reports whether err is a *SQLError about a foreign key.
func isFKError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// TestWriter_deferredForeignKey checks that a write leaving a deferred
// foreign-key violation fails alone, with a constraint error, instead of
// failing the group's COMMIT for everyone: an autocommit statement at its
// end, a write transaction at its Commit.
func TestWriter_deferredForeignKey(t *testing.T) {
	db := fkDB(t)
	ins := "INSERT INTO t VALUES ($1, $2)"
	errs := groupOf(t, db,
		insertRow(ins, "a", 1),
		insertRow("INSERT INTO child SELECT $1 + $2", "998", 1), // no parent 999
		txChild(997, false),
		txChild(5, true), // the parent comes later in the transaction: fine
		insertRow(ins, "c", 3))
	for i, want := range []bool{false, true, true, false, false} {
		if got := isFKError(errs[i]); got != want {
			t.Errorf("write %d: %v, want a foreign key error: %t", i, errs[i], want)
		}
	}
	checkErr(t, errs[1], errSQL)
	checkErr(t, errs[2], errSQL)
	if n := count(t, db, "t"); n != 2 {
		t.Errorf("%d of the 2 good autocommit writes committed", n)
	}
	if n := count(t, db, "child"); n != 1 {
		t.Errorf("%d children, want only the one with its parent", n)
	}
}

// TestWriter_deferredForeignKeyHammer replays the attack: a plugin inserts
// deferred foreign-key violations while others write. Every good write
// commits; every bad one fails.
func TestWriter_deferredForeignKeyHammer(t *testing.T) {
	db := fkDB(t)
	const good, bad, each = 8, 2, 40
	ctx := context.Background()
	var goodErrs, badOK atomic.Int64
	var wg sync.WaitGroup
	for g := range good {
		wg.Go(func() {
			s := db.NewSession()
			defer s.Close()
			for i := range each {
				if _, err := s.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", []any{fmt.Sprintf("%d-%d", g, i), int64(i)}); err != nil {
					t.Log(err)
					goodErrs.Add(1)
				}
			}
		})
	}
	for g := range bad {
		wg.Go(func() {
			s := db.NewSession()
			defer s.Close()
			for i := range each {
				var err error
				if i%2 == 0 {
					_, err = s.Exec(ctx, "INSERT INTO child VALUES ($1)", []any{int64(1000 + g)})
				} else {
					err = txChild(int64(2000+g), false)(ctx, s)
				}
				if !isFKError(err) {
					t.Logf("bad write: %v", err)
					badOK.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if goodErrs.Load() != 0 || badOK.Load() != 0 {
		t.Errorf("%d good writes failed, %d bad writes did not fail with a foreign key error", goodErrs.Load(), badOK.Load())
	}
	if n := count(t, db, "t"); n != good*each {
		t.Errorf("%d rows, want %d", n, good*each)
	}
	if n := count(t, db, "child"); n != 0 {
		t.Errorf("%d orphan children committed", n)
	}
}
