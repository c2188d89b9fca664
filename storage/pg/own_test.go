package pg_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// ownMigrations are a table of Warden's, as the accounts package makes.
var ownMigrations = []storage.Migration{{Version: 1, Name: "secrets", SQL: `
CREATE TABLE IF NOT EXISTS warden_secrets (id TEXT PRIMARY KEY, v BLOB);
INSERT INTO warden_secrets VALUES ('k', 'hidden')`}}

// openOwn opens Warden's own tables on url, closed when t ends.
func openOwn(t *testing.T, url string) *pg.Own {
	t.Helper()
	o, err := pg.OpenOwn(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.Close() })
	return o
}

// TestOwn_pluginCannotReach checks that no plugin reaches Warden's schema,
// by its qualified name or otherwise.
func TestOwn_pluginCannotReach(t *testing.T) {
	db, url := open(t, pg.Options{})
	o := openOwn(t, url)
	if err := o.Migrate(t.Context(), ownMigrations); err != nil {
		t.Fatal(err)
	}
	var v []byte
	if err := o.Reader().QueryRowContext(t.Context(), "SELECT v FROM warden_secrets WHERE id = $1", "k").Scan(&v); err != nil || string(v) != "hidden" {
		t.Fatalf("Warden reads its table: %q, %v", v, err)
	}
	s := session(t, db, "intruder")
	for _, q := range []string{
		"SELECT v FROM warden.warden_secrets",
		"SELECT v FROM warden_secrets",
		"UPDATE warden.warden_secrets SET v = NULL",
		"CREATE TABLE warden.mine (a INT)",
		"SELECT count(*) FROM warden.warden_schema_migrations",
	} {
		_, err := s.Exec(t.Context(), q, nil)
		switch {
		case err == nil:
			t.Errorf("%s: allowed to a plugin", q)
		case !errors.Is(err, storage.ErrNotAllowed) && !isSQLError(err):
			t.Errorf("%s: %v, want a refusal", q, err)
		}
		t.Logf("%s: %v", q, err)
	}
}

func isSQLError(err error) bool {
	var e *storage.SQLError
	return errors.As(err, &e)
}

// TestOwn_migrateConcurrently opens and migrates from several nodes at
// once: each migration applies once, and all succeed.
func TestOwn_migrateConcurrently(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := pg.OpenOwn(t.Context(), url)
			if err == nil {
				err = o.Migrate(t.Context(), ownMigrations)
				_ = o.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	o := openOwn(t, url)
	var rows, recorded int
	if err := o.Reader().QueryRowContext(t.Context(), "SELECT count(*) FROM warden_secrets").Scan(&rows); err != nil || rows != 1 {
		t.Errorf("rows = %d, %v; want the migration applied once", rows, err)
	}
	if err := o.Reader().QueryRowContext(t.Context(), "SELECT count(*) FROM warden_schema_migrations").Scan(&recorded); err != nil || recorded != 1 {
		t.Errorf("recorded = %d, %v; want 1", recorded, err)
	}
}

// recorder is a storage.Listener that records what it is told.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }
func (r *recorder) Sync() error  { r.add("sync"); return nil }
func (r *recorder) Message(p string) error {
	r.add("message " + p)
	return nil
}
func (r *recorder) Lost(error) { r.add("lost") }

// waitEvents waits until the recorder holds want.
func (r *recorder) waitEvents(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r.mu.Lock()
		got := append([]string(nil), r.events...)
		r.mu.Unlock()
		if len(got) >= len(want) {
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("events = %q, want %q", got, want)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events = %q, want %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOwn_listen checks LISTEN/NOTIFY between two nodes: a committed
// notification arrives, a rolled back one never does, and a listener
// whose connection is killed is told, then listens and syncs again.
func TestOwn_listen(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openOwn(t, url), openOwn(t, url)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var r recorder
	done := make(chan struct{})
	go func() { b.Listen(ctx, "warden_test", &r); close(done) }()
	r.waitEvents(t, "sync")
	notify := func(payload string, commit bool) {
		tx, err := a.Writer().BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Notify(t.Context(), tx, "warden_test", payload); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	notify("rolled back", false)
	notify("one", true)
	r.waitEvents(t, "sync", "message one")
	// Kill the listening connection, as a PostgreSQL restart would.
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(t.Context(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"); err != nil {
		t.Fatal(err)
	}
	r.waitEvents(t, "sync", "message one", "lost", "sync")
	notify("two", true)
	r.waitEvents(t, "sync", "message one", "lost", "sync", "message two")
	cancel()
	<-done
}

func TestUnavailable(t *testing.T) {
	_, err := pgx.Connect(t.Context(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"Refused", err, true},
		{"AdminShutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"ConnectionFailure", &pgconn.PgError{Code: "08006"}, true},
		{"UniqueViolation", &pgconn.PgError{Code: "23505"}, false},
		{"Serialization", &pgconn.PgError{Code: "40001"}, false},
		{"Canceled", context.Canceled, false},
		{"Nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pg.Unavailable(tt.err); got != tt.want {
				t.Errorf("Unavailable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
