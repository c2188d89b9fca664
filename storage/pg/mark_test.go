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

// fill1K is a SELECT of 3,000 rows (k, v) of 1,000 bytes: some 3.5 MB, within
// a bound of 4 MiB alone.
const fill1K = " SELECT g, repeat('x', 1000) FROM generate_series(1, 3000) g"

// TestSession_markRefusesThenBounds: the transaction of the reproducer
// (TestSession_maxBytesNewTablesInOverlappingTransactions) whose snapshot
// missed the other's new table is refused with ErrBusy, and its retry,
// whose snapshot has the table, by the bound; the same when the table came
// from an autocommit CREATE TABLE or SELECT INTO, on another node, and the
// refused transaction created nothing.
func TestSession_markRefusesThenBounds(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		create  []string // the other node's autocommit statements
		created string   // the table they make
	}{
		{"CreateTable", []string{"CREATE TABLE ta (k BIGINT, v TEXT)", "INSERT INTO ta" + fill1K}, "ta"},
		{"SelectInto", []string{"SELECT g AS k, repeat('x', 1000) AS v INTO ta FROM generate_series(1, 3000) g"}, "ta"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db1, db2 := twoNodes(t, pg.Options{MaxBytes: 4 << 20})
			a, b := session(t, db2, "twins"), session(t, db1, "twins")
			mustExec(t, b, "CREATE TABLE tb (k BIGINT, v TEXT)")
			write := func(first bool) error {
				if err := b.Begin(ctx, true); err != nil {
					return err
				}
				mustQuery(t, b, "SELECT 1") // b's snapshot
				if first {
					for _, q := range c.create {
						mustExec(t, a, q)
					}
				}
				if _, err := b.Exec(ctx, "INSERT INTO tb"+fill1K, nil); err != nil {
					_ = b.Rollback(ctx)
					return err
				}
				return b.Commit(ctx)
			}
			if err := write(true); !errors.Is(err, storage.ErrBusy) {
				t.Fatalf("a write whose snapshot missed a new table: %v, want ErrBusy", err)
			}
			if err := write(false); !errors.Is(err, storage.ErrLimit) {
				t.Fatalf("its retry: %v, want ErrLimit", err)
			}
			if n := count(t, b, "tb"); n != 0 {
				t.Errorf("tb has %d rows, want 0", n)
			}
		})
	}
	t.Run("Reproducer", func(t *testing.T) {
		db, _ := open(t, pg.Options{MaxBytes: 4 << 20})
		a, b := session(t, db, "twins"), session(t, db, "twins")
		begin := func(s storage.PluginSession) {
			if err := s.Begin(ctx, true); err != nil {
				t.Fatal(err)
			}
		}
		begin(a)
		begin(b)
		mustQuery(t, b, "SELECT 1")
		mustExec(t, a, "CREATE TABLE ta (k BIGINT, v TEXT)")
		mustExec(t, a, "INSERT INTO ta"+fill1K)
		if err := a.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		mustExec(t, b, "CREATE TABLE tb (k BIGINT, v TEXT)")
		mustExec(t, b, "INSERT INTO tb"+fill1K)
		if err := b.Commit(ctx); !errors.Is(err, storage.ErrBusy) {
			t.Fatalf("the second transaction: %v, want ErrBusy", err)
		}
		begin(b)
		mustExec(t, b, "CREATE TABLE tb (k BIGINT, v TEXT)")
		mustExec(t, b, "INSERT INTO tb"+fill1K)
		if err := b.Commit(ctx); !errors.Is(err, storage.ErrLimit) {
			t.Fatalf("its retry: %v, want ErrLimit", err)
		}
	})
}

// TestSession_markAutocommitRetried: an autocommit statement whose
// snapshot missed a table committed while it ran is run again, at once,
// and the retry sees the table: here it is refused by the bound, where it
// committed without the mark.
func TestSession_markAutocommitRetried(t *testing.T) {
	ctx := context.Background()
	db1, db2 := twoNodes(t, pg.Options{MaxBytes: 4 << 20})
	a, b := session(t, db1, "twins"), session(t, db2, "twins")
	mustExec(t, b, "CREATE TABLE tb (k BIGINT, v TEXT)")
	if err := a.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	mustExec(t, a, "CREATE TABLE ta (k BIGINT, v TEXT)")
	mustExec(t, a, "INSERT INTO ta"+fill1K)
	done := make(chan error, 1)
	go func() {
		// Its snapshot is taken while a runs; a commits during the sleep.
		_, err := b.Exec(ctx, "INSERT INTO tb SELECT g, repeat('x', 1000) FROM generate_series(1, 3000) g, (SELECT pg_sleep(0.6)) AS s", nil)
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("the autocommit insert: %v, want ErrLimit (its retry saw ta)", err)
	}
}

// TestSession_markHotReload: a plugin's load on another node runs its
// warden_init, whose CREATE TABLE IF NOT EXISTS and CREATE INDEX IF NOT
// EXISTS find everything there, and which writes a row, autocommit and in
// a transaction, over and over, while the plugin's write transactions (open across them) and
// autocommit writes run: every write succeeds, and none waits. A counter
// bumped by every statement that changes the schema (the attempt of
// 2026-12-07) failed the open transactions with ErrBusy.
func TestSession_markHotReload(t *testing.T) {
	// A write that waited for a lock would wait up to the lock timeout;
	// half of it is far above what a busy 2-core machine adds to a write
	// (747 ms under the race detector, against 500 ms before).
	const busy = 5 * time.Second
	errs, slowest := markUnderDDL(t, busy, func(i int) []string {
		return []string{
			"CREATE TABLE IF NOT EXISTS t (k BIGINT PRIMARY KEY, v TEXT)",
			"CREATE INDEX IF NOT EXISTS t_v ON t (v)",
			"CREATE TABLE IF NOT EXISTS u (k BIGINT PRIMARY KEY, v TEXT)",
			"INSERT INTO u VALUES (0, 'seed') ON CONFLICT (k) DO UPDATE SET v = excluded.v",
		}
	})
	for _, err := range errs {
		t.Error(err)
	}
	if slowest > busy/2 {
		t.Errorf("the slowest write took %s, with a lock timeout of %s", slowest, busy)
	}
}

// TestSession_markRealDDL: when the other node creates new tables while
// the writes run, a write fails at most with ErrBusy (its snapshot missed
// a table: retry), and none waits for a lock.
func TestSession_markRealDDL(t *testing.T) {
	// A write that waited for a lock would wait up to the lock timeout;
	// half of it is far above what a busy 2-core machine adds to a write
	// (747 ms under the race detector, against 500 ms before).
	const busy = 5 * time.Second
	errs, slowest := markUnderDDL(t, busy, func(i int) []string {
		return []string{fmt.Sprintf("CREATE TABLE n%d (k BIGINT)", i), fmt.Sprintf("INSERT INTO n%d VALUES (1)", i)}
	})
	for _, err := range errs {
		if !errors.Is(err, storage.ErrBusy) {
			t.Errorf("%v, want ErrBusy", err)
		}
	}
	t.Logf("%d writes refused with ErrBusy; the slowest took %s", len(errs), slowest)
	if slowest > busy/2 {
		t.Errorf("the slowest write took %s, with a lock timeout of %s", slowest, busy)
	}
}

// markUnderDDL runs ddl(0)'s statements, then, for a second, writers of
// plugin p on one node (two write transactions of two inserts each, open
// while the other node's statements run, and two of autocommit inserts)
// while the other node runs ddl(i)'s statements, i = 1, 2, ...,
// alternately autocommit and in a transaction; it returns the writes' errors and the longest a write's
// Begin, statement or Commit took. Every key is a writer's own, so that
// writes never conflict with each other.
func markUnderDDL(t *testing.T, busy time.Duration, ddl func(i int) []string) ([]error, time.Duration) {
	t.Helper()
	ctx := context.Background()
	db1, db2 := twoNodes(t, pg.Options{MaxBytes: 64 << 20, BusyTimeout: busy})
	init := session(t, db2, "p")
	mustExec(t, init, "CREATE TABLE IF NOT EXISTS t (k BIGINT PRIMARY KEY, v TEXT)")
	for _, q := range ddl(0) {
		mustExec(t, init, q)
	}
	var (
		mu      sync.Mutex
		errs    []error
		slowest time.Duration
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	timed := func(f func() error) error {
		start := time.Now()
		err := f()
		mu.Lock()
		slowest = max(slowest, time.Since(start))
		mu.Unlock()
		return err
	}
	insert := func(s storage.PluginSession, k int64) error {
		return timed(func() error {
			_, err := s.Exec(ctx, "INSERT INTO t VALUES ($1, 'v')", []any{k})
			return err
		})
	}
	writer := func(w int64, tx bool) {
		defer wg.Done()
		s := session(t, db1, "p")
		for i := int64(0); ; i += 2 {
			select {
			case <-stop:
				return
			default:
			}
			k := w<<32 | i
			var err error
			if tx {
				if err = timed(func() error { return s.Begin(ctx, true) }); err == nil {
					err = insert(s, k)
					time.Sleep(time.Millisecond)
					if err == nil {
						err = insert(s, k+1)
					}
					if err == nil {
						err = timed(func() error { return s.Commit(ctx) })
					} else {
						_ = s.Rollback(ctx)
					}
				}
			} else {
				err = insert(s, k)
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("writer %d, key %d: %w", w, k, err))
				mu.Unlock()
			}
		}
	}
	for w := int64(0); w < 4; w++ {
		wg.Add(1)
		go writer(w, w%2 == 0)
	}
	deadline := time.Now().Add(time.Second)
	for i := 1; time.Now().Before(deadline); i++ {
		tx := i%2 == 0
		if tx {
			if err := init.Begin(ctx, true); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range ddl(i) {
			mustExec(t, init, q)
		}
		if tx {
			if err := init.Commit(ctx); err != nil {
				t.Fatalf("init %d: %v", i, err)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	return errs, slowest
}

// TestSession_markNoWait: nothing of the mark waits for a lock. While a
// transaction that created a table holds the plugin's DDL lock, another
// node's write transactions begin, write and commit at once; while an
// autocommit write runs, another's CREATE TABLE commits at once (the
// attempt of 2026-12-07 waited in Begin for a DDL commit, with no lock
// timeout, and a DDL commit waited for the autocommit writes in
// progress). A second statement that changes the schema waits for the DDL
// lock at most the lock timeout, as before.
func TestSession_markNoWait(t *testing.T) {
	const busy = 400 * time.Millisecond
	ctx := context.Background()
	db1, db2 := twoNodes(t, pg.Options{MaxBytes: 64 << 20, BusyTimeout: busy})
	a, b, c := session(t, db1, "p"), session(t, db2, "p"), session(t, db2, "p")
	mustExec(t, a, "CREATE TABLE t (k BIGINT PRIMARY KEY, v TEXT)")
	quick := func(what string, f func() error) {
		t.Helper()
		start := time.Now()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if d := time.Since(start); d > busy/2 {
			t.Errorf("%s took %s", what, d)
		}
	}
	if err := a.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	mustExec(t, a, "CREATE TABLE x (k BIGINT)")
	quick("Begin", func() error { return b.Begin(ctx, true) })
	quick("an insert", func() error { _, err := b.Exec(ctx, "INSERT INTO t VALUES (1, 'v')", nil); return err })
	quick("Commit", func() error { return b.Commit(ctx) })
	quick("an autocommit insert", func() error { _, err := b.Exec(ctx, "INSERT INTO t VALUES (2, 'v')", nil); return err })
	start := time.Now()
	if _, err := c.Exec(ctx, "CREATE TABLE IF NOT EXISTS y (k BIGINT)", nil); !errors.Is(err, storage.ErrBusy) {
		t.Errorf("a second DDL statement: %v, want ErrBusy (the DDL lock's timeout)", err)
	}
	if d := time.Since(start); d > 3*busy {
		t.Errorf("a second DDL statement waited %s, with a lock timeout of %s", d, busy)
	}
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := b.Exec(ctx, "INSERT INTO t SELECT 3, 'v' FROM (SELECT pg_sleep(1)) AS s", nil)
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	quick("a CREATE TABLE during an autocommit write", func() error { _, err := c.Exec(ctx, "CREATE TABLE z (k BIGINT)", nil); return err })
	if err := <-done; err != nil {
		// Its snapshot missed z: retried at once, and committed.
		t.Errorf("the autocommit write: %v", err)
	}
	if n := count(t, a, "t"); n != 3 {
		t.Errorf("t has %d rows, want 3", n)
	}
}

// TestSession_markUnmarked: should the policy miss a statement that
// creates a relation (here it is switched off, and takes nothing for a
// change of the schema), the commit fails closed with ErrNotAllowed and
// the relation is gone.
func TestSession_markUnmarked(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t, pg.Options{MaxBytes: 4 << 20})
	s := session(t, db, "sly")
	pg.WithoutPolicy(db)
	if _, err := s.Exec(ctx, "CREATE TABLE a (k BIGINT)", nil); !errors.Is(err, storage.ErrNotAllowed) {
		t.Errorf("an autocommit CREATE TABLE taken for no DDL: %v, want ErrNotAllowed", err)
	}
	if err := s.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, "CREATE TABLE b (k BIGINT)")
	if err := s.Commit(ctx); !errors.Is(err, storage.ErrNotAllowed) {
		t.Errorf("a transaction's CREATE TABLE taken for no DDL: %v, want ErrNotAllowed", err)
	}
	rows := mustQuery(t, s, "SELECT count(*) FROM pg_tables WHERE schemaname = 'plugin_sly'")
	if n := rows.Values[0][0].(int64); n != 0 {
		t.Errorf("%d tables left, want 0", n)
	}
}

// TestSession_markNotThePlugins: a plugin may read its mark, never set,
// advance or drop it, nor read another plugin's.
func TestSession_markNotThePlugins(t *testing.T) {
	db, _ := open(t, pg.Options{MaxBytes: 4 << 20})
	s := session(t, db, "sly")
	_ = session(t, db, "other")
	mustQuery(t, s, "SELECT last_value FROM warden_ddl.plugin_sly")
	for _, q := range []string{
		"SELECT setval('warden_ddl.plugin_sly', 1)",
		"SELECT nextval('warden_ddl.plugin_sly')",
		"ALTER SEQUENCE warden_ddl.plugin_sly RESTART",
		"DROP SEQUENCE warden_ddl.plugin_sly",
		"SELECT last_value FROM warden_ddl.plugin_other",
		"CREATE TABLE warden_ddl.t (k BIGINT)",
	} {
		if _, err := s.Exec(context.Background(), q, nil); err == nil {
			t.Errorf("%s: done", q)
		}
	}
}
