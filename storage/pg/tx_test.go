package pg_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
)

// TestSession_Busy: two SERIALIZABLE transactions that each read what the
// other writes cannot both commit; the loser gets ErrBusy, at a statement
// or at Commit.
func TestSession_Busy(t *testing.T) {
	db, _ := open(t, pg.Options{})
	ctx := context.Background()
	a, b := session(t, db, "busy"), session(t, db, "busy")
	mustExec(t, a, "CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT)")
	mustExec(t, a, "INSERT INTO t VALUES (1, 0), (2, 0)")
	for _, s := range []storage.PluginSession{a, b} {
		if err := s.Begin(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	mustQuery(t, a, "SELECT SUM(n) FROM t")
	mustQuery(t, b, "SELECT SUM(n) FROM t")
	mustExec(t, a, "UPDATE t SET n = n + 1 WHERE id = 1")
	_, errB := b.Exec(ctx, "UPDATE t SET n = n + 1 WHERE id = 2", nil)
	errA := a.Commit(ctx)
	if errB == nil {
		errB = b.Commit(ctx)
	} else {
		_ = b.Rollback(ctx)
	}
	if errA != nil || !errors.Is(errB, storage.ErrBusy) {
		t.Errorf("commit a: %v; b: %v, want nil and ErrBusy", errA, errB)
	}
}

// TestSession_lockTimeout: a statement waiting longer than BusyTimeout
// for a row another transaction holds fails with ErrBusy, as SQLite's
// busy_timeout does.
func TestSession_lockTimeout(t *testing.T) {
	db, _ := open(t, pg.Options{BusyTimeout: 200 * time.Millisecond})
	ctx := context.Background()
	a, b := session(t, db, "locks"), session(t, db, "locks")
	mustExec(t, a, "CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT)")
	mustExec(t, a, "INSERT INTO t VALUES (1, 0)")
	if err := a.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	defer a.Rollback(ctx)
	mustExec(t, a, "UPDATE t SET n = 1 WHERE id = 1")
	if _, err := b.Exec(ctx, "UPDATE t SET n = 2 WHERE id = 1", nil); !errors.Is(err, storage.ErrBusy) {
		t.Errorf("update of a locked row: %v, want ErrBusy", err)
	}
}

// TestSession_AutocommitRetry: autocommit increments racing on one row all
// land, PostgreSQL's serialization failures being retried or reported as
// ErrBusy, never as another error.
func TestSession_AutocommitRetry(t *testing.T) {
	db, _ := open(t, pg.Options{})
	mustExec(t, session(t, db, "race"), "CREATE TABLE c (id BIGINT PRIMARY KEY, n BIGINT)")
	mustExec(t, session(t, db, "race"), "INSERT INTO c VALUES (1, 0)")
	const workers, each = 4, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := int64(0)
	for range workers {
		s := session(t, db, "race")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				_, err := s.Exec(context.Background(), "UPDATE c SET n = n + 1 WHERE id = 1", nil)
				if err != nil && !errors.Is(err, storage.ErrBusy) {
					t.Error(err)
				}
				if err == nil {
					mu.Lock()
					done++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	rows := mustQuery(t, session(t, db, "race"), "SELECT n FROM c")
	if rows.Values[0][0] != done {
		t.Errorf("n = %v, want %d (one per successful increment)", rows.Values[0][0], done)
	}
}

// TestSession_transfers is a hammer test of SERIALIZABLE and its retries:
// workers move amounts between accounts in write transactions, retrying on
// ErrBusy, while readers sum the accounts in read transactions; every sum
// seen and the final one equal the starting total.
func TestSession_transfers(t *testing.T) {
	db, _ := open(t, pg.Options{})
	ctx := context.Background()
	const accounts, total = 5, 500
	setup := session(t, db, "bank")
	mustExec(t, setup, "CREATE TABLE acct (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)")
	for i := range accounts {
		mustExec(t, setup, "INSERT INTO acct VALUES ($1, $2)", int64(i), int64(total/accounts))
	}
	transfer := func(s storage.PluginSession, from, to int64) error {
		if err := s.Begin(ctx, true); err != nil {
			return err
		}
		defer func() {
			if s.InTx() {
				_ = s.Rollback(ctx)
			}
		}()
		rows, err := s.Query(ctx, "SELECT n FROM acct WHERE id = $1", []any{from})
		if err != nil {
			return err
		}
		if rows.Values[0][0].(int64) < 1 {
			return s.Commit(ctx)
		}
		for _, q := range []struct {
			id    int64
			delta int64
		}{{from, -1}, {to, 1}} {
			if _, err := s.Exec(ctx, "UPDATE acct SET n = n + $1 WHERE id = $2", []any{q.delta, q.id}); err != nil {
				return err
			}
		}
		return s.Commit(ctx)
	}
	sum := func(s storage.PluginSession) (int64, error) {
		if err := s.Begin(ctx, false); err != nil {
			return 0, err
		}
		defer s.Rollback(ctx)
		rows, err := s.Query(ctx, "SELECT SUM(n) FROM acct", nil)
		if err != nil {
			return 0, err
		}
		return rows.Values[0][0].(int64), nil
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := session(t, db, "bank")
			for i := range 30 {
				from, to := int64((w+i)%accounts), int64((w+2*i+1)%accounts)
				if from == to {
					continue
				}
				if err := transfer(s, from, to); err != nil && !errors.Is(err, storage.ErrBusy) {
					t.Error(err)
					return
				}
				if n, err := sum(s); err != nil && !errors.Is(err, storage.ErrBusy) {
					t.Error(err)
				} else if err == nil && n != total {
					t.Errorf("a reader saw a total of %d, want %d", n, total)
				}
			}
		}()
	}
	wg.Wait()
	if n, err := sum(setup); err != nil || n != total {
		t.Errorf("final total %d, %v; want %d", n, err, total)
	}
}

// TestSession_concurrentDDL: nodes loading the same plugin run its
// warden_init at once; PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe
// against itself (both see no table, one fails on a duplicate key), so the
// engine serialises a plugin's DDL with an advisory lock.
func TestSession_concurrentDDL(t *testing.T) {
	db, db2 := twoNodes(t, pg.Options{})
	const workers, tables = 6, 15
	var wg sync.WaitGroup
	for w := range workers {
		node := []*pg.DB{db, db2}[w%2]
		s := session(t, node, "ddl")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range tables {
				q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS t%d (id BIGINT PRIMARY KEY, v BLOB)", i)
				if _, err := s.Exec(context.Background(), q, nil); err != nil {
					t.Errorf("worker %d: %s: %v", w, q, err)
					return
				}
				q = fmt.Sprintf("CREATE INDEX IF NOT EXISTS t%d_v ON t%d (v)", i, i)
				if _, err := s.Exec(context.Background(), q, nil); err != nil {
					t.Errorf("worker %d: %s: %v", w, q, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestSession_DDLInTransaction: a plugin transaction that creates a table
// holds the DDL lock until it ends, so another node's CREATE TABLE IF NOT
// EXISTS waits for it and then finds the table, instead of failing on a
// duplicate key.
func TestSession_DDLInTransaction(t *testing.T) {
	db1, db2 := twoNodes(t, pg.Options{})
	ctx := context.Background()
	a, b := session(t, db1, "ddltx"), session(t, db2, "ddltx")
	if err := a.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	mustExec(t, a, "CREATE TABLE IF NOT EXISTS shared (id BIGINT PRIMARY KEY)")
	done := make(chan error, 1)
	go func() {
		_, err := b.Exec(ctx, "CREATE TABLE IF NOT EXISTS shared (id BIGINT PRIMARY KEY)", nil)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // let b wait, if it gets there in time
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("the second CREATE TABLE IF NOT EXISTS: %v", err)
	}
}
