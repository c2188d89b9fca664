package pg_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
)

// The tests of this file check storage/pg against the isolation list of
// issue 13, item by item; the items covered elsewhere are named in
// RATIONALE.md ("PostgreSQL plugin isolation: the audit").

// admin connects to the test database as Warden's own role, closed when t
// ends.
func admin(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// eventually polls cond every 50 ms until it holds or 15 s have passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(15 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("after 15 s: %s", what)
		}
	}
}

// TestSession_deadlineCancels: when the call's deadline passes, the
// statement stops on the server too, rather than run on (up to
// statement_timeout, or lock_timeout for a lock wait) for a caller that has
// gone; and the session still works.
func TestSession_deadlineCancels(t *testing.T) {
	db, dbURL := open(t, pg.Options{BusyTimeout: time.Minute, StatementTimeout: time.Minute})
	ctx := context.Background()
	a, b := session(t, db, "slow"), session(t, db, "slow")
	mustExec(t, a, "CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT)")
	mustExec(t, a, "INSERT INTO t VALUES (1, 0)")
	c := admin(t, dbURL)
	running := func(marker string) func() bool {
		return func() bool {
			var n int64
			err := c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE '%' || $1 || '%'`, marker).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n == 0
		}
	}
	t.Run("Autocommit", func(t *testing.T) {
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if _, err := b.Exec(dctx, "SELECT pg_sleep(60) /* deadline_sleep */", nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("pg_sleep past the deadline: %v, want DeadlineExceeded", err)
		}
		eventually(t, "pg_sleep still runs on the server", running("deadline_sleep"))
		mustQuery(t, b, "SELECT 1")
	})
	t.Run("LockWaitInTransaction", func(t *testing.T) {
		if err := a.Begin(ctx, true); err != nil {
			t.Fatal(err)
		}
		defer a.Rollback(ctx)
		mustExec(t, a, "UPDATE t SET n = 1 WHERE id = 1")
		if err := b.Begin(ctx, true); err != nil {
			t.Fatal(err)
		}
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if _, err := b.Exec(dctx, "UPDATE t SET n = 2 WHERE id = 1 /* deadline_lock */", nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("lock wait past the deadline: %v, want DeadlineExceeded", err)
		}
		eventually(t, "the UPDATE still waits for the lock on the server", running("deadline_lock"))
		if _, err := b.Exec(ctx, "SELECT 1", nil); !errors.Is(err, storage.ErrTxFailed) {
			t.Errorf("after the deadline in a transaction: %v, want ErrTxFailed", err)
		}
		_ = b.Rollback(ctx)
		mustQuery(t, b, "SELECT 1")
	})
}

// TestSession_auditRefusals: statements of the list that no other
// test tries are refused with ErrNotAllowed: reading settings, files or
// other sessions, signalling backends, COPY in any form, languages and
// extensions.
func TestSession_auditRefusals(t *testing.T) {
	db, _, a := victim(t)
	for _, q := range []string{
		"SELECT current_setting('port')",
		"SELECT pg_catalog.current_setting('search_path', true)",
		"SELECT name, setting FROM pg_settings",
		"SELECT * FROM pg_catalog.pg_settings WHERE name = 'port'",
		"SELECT * FROM pg_show_all_settings()",
		"SELECT pg_ls_logdir()",
		"SELECT pg_ls_waldir()",
		"SELECT pg_current_logfile()",
		"SELECT pg_cancel_backend(1)",
		"SELECT pg_terminate_backend(1)",
		"SELECT pg_reload_conf()",
		"COPY (SELECT 1) TO STDOUT",
		"COPY mine FROM STDIN",
		"CREATE LANGUAGE plpython3u",
		"CREATE TRUSTED PROCEDURAL LANGUAGE evil HANDLER plpgsql_call_handler",
		"CREATE EXTENSION dblink",
		"ALTER EXTENSION plpgsql UPDATE",
		"DROP EXTENSION plpgsql",
		"SELECT dblink_connect('host=127.0.0.1')",
		"SET SESSION AUTHORIZATION DEFAULT",
		"SET LOCAL ROLE NONE",
		`LISTEN "ch"`,
		"UNLISTEN ch",
	} {
		t.Run(q, func(t *testing.T) {
			if _, err := a.Query(context.Background(), q, nil); !errors.Is(err, storage.ErrNotAllowed) {
				t.Errorf("%s: %v, want ErrNotAllowed", q, err)
			}
		})
	}
	checkVictim(t, db, a)
}

// TestSession_wardenSchema: Warden's own tables, in a schema of their own
// (warden), are out of a plugin's reach, qualified or not.
func TestSession_wardenSchema(t *testing.T) {
	db, dbURL, a := victim(t)
	c := admin(t, dbURL)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE SCHEMA warden",
		"CREATE TABLE warden.warden_users (id TEXT PRIMARY KEY, password TEXT)",
		"INSERT INTO warden.warden_users VALUES ('u1', 'hash')",
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		"SELECT * FROM warden.warden_users",
		`SELECT * FROM "warden"."warden_users"`,
		"INSERT INTO warden.warden_users VALUES ('u2', 'x')",
		"UPDATE warden.warden_users SET password = 'x'",
		"DELETE FROM warden.warden_users",
		"TRUNCATE warden.warden_users",
		"DROP TABLE warden.warden_users",
		"ALTER TABLE warden.warden_users ADD COLUMN x BIGINT",
		"CREATE TABLE warden.planted (id BIGINT)",
		"CREATE VIEW peek AS SELECT * FROM warden.warden_users",
		"SELECT * FROM warden_users",
	} {
		t.Run(q, func(t *testing.T) {
			_, err := a.Query(ctx, q, nil)
			var sqlErr *storage.SQLError
			missing := errors.As(err, &sqlErr) && strings.Contains(sqlErr.Msg, "does not exist")
			if !errors.Is(err, storage.ErrNotAllowed) && !missing {
				t.Errorf("%s: %v, want ErrNotAllowed or does not exist", q, err)
			}
		})
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM warden.warden_users WHERE password = 'hash'").Scan(&n); err != nil || n != 1 {
		t.Errorf("warden_users changed: %d rows, %v", n, err)
	}
	checkVictim(t, db, a)
}

// TestSession_otherSessionsHidden: what other connections run (Warden's
// own, other plugins') is not readable in pg_stat_activity: the policy
// refuses the view, and PostgreSQL would hide the query text from the
// plugin's role anyway.
func TestSession_otherSessionsHidden(t *testing.T) {
	_, dbURL, a := victim(t)
	c := admin(t, dbURL)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "SELECT 'warden-secret-query-text'"); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%warden-secret-' || 'query-text%'"
	if _, err := a.Query(ctx, q, nil); !errors.Is(err, storage.ErrNotAllowed) {
		t.Errorf("%s: %v, want ErrNotAllowed", q, err)
	}
	var role string
	if err := scan(a, &role); err != nil {
		t.Fatal(err)
	}
	var n int64
	err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+pgx.Identifier{role}.Sanitize()); err != nil {
			return err
		}
		return tx.QueryRow(ctx, q).Scan(&n)
	})
	if err != nil || n != 0 {
		t.Errorf("as the plugin's role: %d sessions' query text seen, %v; want none", n, err)
	}
}

// twoWriters returns two sessions of one plugin, each in a write
// transaction, and its table t with the rows (1, 0) and (2, 0).
func twoWriters(t *testing.T, opts pg.Options) (a, b storage.PluginSession) {
	t.Helper()
	db, _ := open(t, opts)
	a, b = session(t, db, "writers"), session(t, db, "writers")
	mustExec(t, a, "CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT)")
	mustExec(t, a, "INSERT INTO t VALUES (1, 0), (2, 0)")
	for _, s := range []storage.PluginSession{a, b} {
		if err := s.Begin(context.Background(), true); err != nil {
			t.Fatal(err)
		}
	}
	return a, b
}

// TestSession_deadlock: a deadlock between two plugin transactions
// (40P01) is ErrBusy for the one PostgreSQL picks, and the other commits.
func TestSession_deadlock(t *testing.T) {
	ctx := context.Background()
	a, b := twoWriters(t, pg.Options{BusyTimeout: time.Minute})
	mustExec(t, a, "UPDATE t SET n = 1 WHERE id = 1")
	mustExec(t, b, "UPDATE t SET n = 1 WHERE id = 2")
	var wg sync.WaitGroup
	var errA, errB error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, errA = a.Exec(ctx, "UPDATE t SET n = 2 WHERE id = 2", nil)
	}()
	_, errB = b.Exec(ctx, "UPDATE t SET n = 2 WHERE id = 1", nil)
	wg.Wait()
	loser, winner := a, b
	lerr, werr := errA, errB
	if errA == nil {
		loser, winner, lerr, werr = b, a, errB, errA
	}
	if werr != nil || !errors.Is(lerr, storage.ErrBusy) || !strings.Contains(lerr.Error(), "deadlock") {
		t.Fatalf("a: %v; b: %v; want one nil and one ErrBusy for a deadlock", errA, errB)
	}
	_ = loser.Rollback(ctx)
	if err := winner.Commit(ctx); err != nil {
		t.Errorf("the other transaction's commit: %v", err)
	}
}

// TestSession_busyAtCommit: a serialization failure that PostgreSQL finds
// only at COMMIT (the transaction is a pivot of a dangerous structure) is
// ErrBusy too, and nothing of the transaction is kept.
func TestSession_busyAtCommit(t *testing.T) {
	ctx := context.Background()
	a, b := twoWriters(t, pg.Options{})
	mustQuery(t, a, "SELECT n FROM t WHERE id = 2")
	mustQuery(t, b, "SELECT n FROM t WHERE id = 1")
	mustExec(t, a, "UPDATE t SET n = 10 WHERE id = 1")
	mustExec(t, b, "UPDATE t SET n = 20 WHERE id = 2")
	if err := a.Commit(ctx); err != nil {
		t.Fatalf("first commit: %v", err)
	}
	if err := b.Commit(ctx); !errors.Is(err, storage.ErrBusy) {
		t.Fatalf("second commit: %v, want ErrBusy", err)
	}
	rows := mustQuery(t, a, "SELECT n FROM t ORDER BY id")
	if rows.Values[0][0] != int64(10) || rows.Values[1][0] != int64(0) {
		t.Errorf("rows after: %v, want [[10] [0]]", rows.Values)
	}
}

// TestSession_readOnlyWrites: every kind of write in a read-only
// transaction is ErrReadOnly, and fails the transaction.
func TestSession_readOnlyWrites(t *testing.T) {
	db, _ := open(t, pg.Options{})
	ctx := context.Background()
	s := session(t, db, "ro")
	mustExec(t, s, "CREATE TABLE t (id BIGINT PRIMARY KEY)")
	mustExec(t, s, "CREATE SEQUENCE seq")
	for _, q := range []string{
		"INSERT INTO t VALUES (1)",
		"UPDATE t SET id = 2",
		"DELETE FROM t",
		"TRUNCATE t",
		"WITH x AS (INSERT INTO t VALUES (3) RETURNING id) SELECT * FROM x",
		"SELECT nextval('seq')",
		"CREATE TABLE u (id BIGINT)",
		"DROP TABLE t",
		"CREATE INDEX t_id ON t (id)",
	} {
		t.Run(q, func(t *testing.T) {
			if err := s.Begin(ctx, false); err != nil {
				t.Fatal(err)
			}
			defer s.Rollback(ctx)
			if _, err := s.Exec(ctx, q, nil); !errors.Is(err, storage.ErrReadOnly) {
				t.Errorf("%s in a read-only transaction: %v, want ErrReadOnly", q, err)
			}
			if _, err := s.Exec(ctx, "SELECT 1", nil); !errors.Is(err, storage.ErrTxFailed) {
				t.Errorf("after it: %v, want ErrTxFailed", err)
			}
		})
	}
}

// TestSession_roleCheck: should the policy miss a statement that changes
// the role (here it is switched off), the statement fails with
// ErrNotAllowed, its transaction is failed, and no statement runs in the
// identity it took: Warden checks the role after every plugin statement,
// in the same round trip.
func TestSession_roleCheck(t *testing.T) {
	db, _, a := victim(t)
	pg.WithoutPolicy(db)
	ctx := context.Background()
	for _, q := range []string{"RESET ROLE", "SET ROLE NONE", "SET LOCAL ROLE postgres", "SET SESSION AUTHORIZATION DEFAULT"} {
		t.Run(q, func(t *testing.T) {
			if err := a.Begin(ctx, true); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Exec(ctx, q, nil); !errors.Is(err, storage.ErrNotAllowed) {
				t.Errorf("%s: %v, want ErrNotAllowed", q, err)
			}
			if rows, err := a.Query(ctx, "SELECT v FROM plugin_victim.secret", nil); !errors.Is(err, storage.ErrTxFailed) {
				t.Errorf("after %s: %v %v, want ErrTxFailed", q, rows, err)
			}
			_ = a.Rollback(ctx)
			if _, err := a.Query(ctx, q, nil); !errors.Is(err, storage.ErrNotAllowed) {
				t.Errorf("%s outside a transaction: %v, want ErrNotAllowed", q, err)
			}
			checkVictim(t, db, a)
		})
	}
	t.Run("ProceduralCode", func(t *testing.T) {
		for _, q := range []string{
			"DO $$BEGIN RESET ROLE; END$$",
			"CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$BEGIN RESET ROLE; RETURN 1; END$$",
		} {
			if _, err := a.Exec(ctx, q, nil); !errors.Is(err, storage.ErrNotAllowed) {
				t.Errorf("%s: %v, want ErrNotAllowed", q, err)
			}
		}
		checkVictim(t, db, a)
	})
}
