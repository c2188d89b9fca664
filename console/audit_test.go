package console

import (
	"context"
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// pgAuditDB is an AuditDB on PostgreSQL through database/sql: the audit
// table's SQL must run there unchanged.
type pgAuditDB struct{ db *sql.DB }

func (p pgAuditDB) Migrate(ctx context.Context, ms []storage.Migration) error {
	for _, m := range ms {
		if _, err := p.db.ExecContext(ctx, m.SQL); err != nil {
			return err
		}
	}
	return nil
}
func (p pgAuditDB) Writer() *sql.DB { return p.db }
func (p pgAuditDB) Reader() *sql.DB { return p.db }

// auditEngines open an empty AuditDB on SQLite (a file) and on PostgreSQL
// (skipped without WARDEN_TEST_POSTGRES): the audit table's SQL must run
// on both unchanged.
var auditEngines = map[string]func(t *testing.T) AuditDB{
	"sqlite": func(t *testing.T) AuditDB {
		db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	},
	"postgres": func(t *testing.T) AuditDB {
		db, err := sql.Open("pgx", pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return pgAuditDB{db}
	},
}

// newTestAudit returns the audit log in db, on a clock that ticks a
// millisecond at each reading.
func newTestAudit(t *testing.T, db AuditDB) *SQLAudit {
	t.Helper()
	a, err := NewSQLAudit(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.UnixMilli(1_700_000_000_000)
	a.now = func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	return a
}

// recent returns the latest n entries of every kind.
func recent(ctx context.Context, a *SQLAudit, n int) ([]AuditEntry, error) {
	p, err := a.Page(ctx, AuditQuery{Limit: n})
	return p.Entries, err
}

// TestSQLAudit runs the audit log on SQLite and on PostgreSQL: the same
// SQL, $n parameters and all.
func TestSQLAudit(t *testing.T) {
	for name, open := range auditEngines {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := newTestAudit(t, open(t))
			if err := a.Record(ctx, AuditEntry{Actor: "ops", ClientAddr: "10.0.0.1", Action: "sign-in", Outcome: "ok"}); err != nil {
				t.Fatal(err)
			}
			id, err := a.Begin(ctx, AuditEntry{Actor: "ops", ClientAddr: "10.0.0.1", Action: "plugins.deploy", Target: "echo", Detail: "12 bytes"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := recent(ctx, a, 10)
			if err != nil || len(got) != 2 || got[0].Outcome != "started" {
				t.Fatalf("before Finish: %+v, %v", got, err)
			}
			if err := a.Finish(ctx, id, "refused: broken"); err != nil {
				t.Fatal(err)
			}
			got, err = recent(ctx, a, 10)
			if err != nil || len(got) != 2 {
				t.Fatalf("Recent: %+v, %v", got, err)
			}
			d, s := got[0], got[1]
			if d.ID != id || d.Action != "plugins.deploy" || d.Target != "echo" || d.Detail != "12 bytes" || d.Outcome != "refused: broken" ||
				s.Action != "sign-in" || s.Actor != "ops" || s.ClientAddr != "10.0.0.1" || !s.At.Before(d.At) {
				t.Fatalf("Recent, newest first: %+v", got)
			}
			if one, err := recent(ctx, a, 1); err != nil || len(one) != 1 || one[0].ID != id {
				t.Fatalf("recent(1) = %+v, %v", one, err)
			}
		})
	}
}

// TestConsole_auditUnavailable checks that a change is refused, and not
// made, when the audit log cannot be written.
func TestConsole_auditUnavailable(t *testing.T) {
	f := newFixture(t, false)
	cl := f.client(t)
	tok := f.signIn(t, cl)
	wasm := echoWasm(t)
	if status, body, _ := f.send(t, cl, "PUT", "api/plugins/first", string(wasm), f.srv.URL, tok); status != http.StatusOK {
		t.Fatalf("deploy with the audit log: %d %s, want 200", status, body)
	}
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	status, body, _ := f.send(t, cl, "PUT", "api/plugins/echo", string(wasm), f.srv.URL, tok)
	if status != http.StatusInternalServerError || !strings.Contains(body, "audit log unavailable; nothing was changed") {
		t.Fatalf("deploy without an audit log: %d %s, want 500", status, body)
	}
	if entries, _ := os.ReadDir(f.pluginDir); len(entries) != 1 || entries[0].Name() != "first.wasm" {
		t.Fatalf("the plugin folder holds %v after a refused deploy", entries)
	}
}

// TestSessions_expiry checks the session lifetimes: idle and absolute.
func TestSessions_expiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	ss := newSessions(time.Hour, 10*time.Minute)
	ss.now = func() time.Time { return now }
	tok, _ := ss.create("ops", "127.0.0.1")
	now = now.Add(9 * time.Minute)
	if ss.get(tok) == nil {
		t.Fatal("session gone after 9 idle minutes of 10")
	}
	for i := range 5 { // used every 9 minutes, up to 54 minutes
		now = now.Add(9 * time.Minute)
		if ss.get(tok) == nil {
			t.Fatalf("session gone at minute %d, within its hour", 18+9*i)
		}
	}
	now = now.Add(9 * time.Minute) // minute 63
	if ss.get(tok) != nil {
		t.Fatal("session alive past its absolute lifetime")
	}
	tok, _ = ss.create("ops", "127.0.0.1")
	now = now.Add(11 * time.Minute)
	if ss.get(tok) != nil {
		t.Fatal("session alive after 11 idle minutes of 10")
	}
	if ss.get("not-a-token") != nil {
		t.Fatal("an unknown token has a session")
	}
}
