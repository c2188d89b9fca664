package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage"
)

// openDB opens a database in a fresh directory and closes it at cleanup.
func openDB(t testing.TB, opts storage.Options) *storage.DB {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "warden.db"), opts)
}

// openAt opens the database at path and closes it at cleanup.
func openAt(t testing.TB, path string, opts storage.Options) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// session returns a new session of db, closed at cleanup.
func session(t testing.TB, db *storage.DB) *storage.Session {
	t.Helper()
	s := db.NewSession()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// mustExec runs Exec and fails the test on error.
func mustExec(t testing.TB, s *storage.Session, query string, args ...any) int64 {
	t.Helper()
	n, err := s.Exec(context.Background(), query, args)
	if err != nil {
		t.Fatalf("Exec(%q): %v", query, err)
	}
	return n
}

// mustQuery runs Query and fails the test on error.
func mustQuery(t testing.TB, s *storage.Session, query string, args ...any) *storage.Rows {
	t.Helper()
	rows, err := s.Query(context.Background(), query, args)
	if err != nil {
		t.Fatalf("Query(%q): %v", query, err)
	}
	return rows
}

// count returns the number of rows of table, read in a new session.
func count(t testing.TB, db *storage.DB, table string) int64 {
	t.Helper()
	s := session(t, db)
	defer s.Close()
	rows := mustQuery(t, s, "SELECT count(*) FROM "+table)
	return rows.Values[0][0].(int64)
}

func TestOpen_WAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub.db")
	db := openAt(t, path, storage.Options{})
	ctx := context.Background()
	var mode string
	var sync int
	if err := db.Writer().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := db.Writer().QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 1 {
		t.Errorf("journal_mode, synchronous = %q, %d; want wal, 1 (NORMAL)", mode, sync)
	}
	if got := db.Engine(); got != "sqlite" {
		t.Errorf("Engine() = %q, want sqlite", got)
	}
	if got := db.Path(); got != path {
		t.Errorf("Path() = %q, want %q", got, path)
	}
}

func TestOpen_Errors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		opts storage.Options
	}{
		{name: "EmptyPath", path: ""},
		{name: "NegativeOption", path: filepath.Join(dir, "a.db"), opts: storage.Options{MaxRows: -1}},
		{name: "MissingDir", path: filepath.Join(dir, "no", "such", "a.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := storage.Open(context.Background(), tt.path, tt.opts)
			if err == nil {
				_ = db.Close()
				t.Fatal("Open succeeded, want error")
			}
		})
	}
}

func TestDB_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "warden.db")
	ctx := context.Background()
	db, err := storage.Open(ctx, path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := db.NewSession()
	mustExec(t, s, "CREATE TABLE t(v TEXT)")
	if err := s.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, "INSERT INTO t VALUES (?)", "kept")
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openAt(t, path, storage.Options{})
	rows := mustQuery(t, session(t, db), "SELECT v FROM t")
	if len(rows.Values) != 1 || rows.Values[0][0] != "kept" {
		t.Errorf("after reopen got %v, want [[kept]]", rows.Values)
	}
}

func TestDB_Close(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "warden.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	open := db.NewSession()
	if err := open.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := db.NewSession().Exec(ctx, "SELECT 1", nil); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Exec after Close: got %v, want ErrClosed", err)
	}
	if err := open.Commit(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Commit after Close: got %v, want ErrClosed", err)
	}
	if err := open.Close(); err != nil {
		t.Errorf("Session.Close after DB.Close: %v", err)
	}
	if err := db.Migrate(ctx, nil); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Migrate after Close: got %v, want ErrClosed", err)
	}
}

func TestDB_WriterNotRestricted(t *testing.T) {
	db := openDB(t, storage.Options{})
	s := session(t, db)
	if _, err := s.Exec(context.Background(), "PRAGMA user_version = 7", nil); !errors.Is(err, storage.ErrNotAllowed) {
		t.Fatalf("plugin PRAGMA: got %v, want ErrNotAllowed", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := db.Writer().ExecContext(ctx, "CREATE TABLE warden_own(a); PRAGMA user_version = 7"); err != nil {
		t.Fatalf("Writer after a plugin statement: %v", err)
	}
}

// TestOpen_Defensive checks that every connection, the writer's and the
// readers', is in SQLite's defensive mode: writable_schema cannot be turned
// on, and sqlite_dbpage cannot be written even by Warden's own statements.
func TestOpen_Defensive(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, storage.Options{MaxReaders: 2})
	if _, err := db.Writer().ExecContext(ctx, "CREATE TABLE t(a)"); err != nil {
		t.Fatal(err)
	}
	for _, pool := range []struct {
		name string
		db   *sql.DB
		n    int
	}{{"Writer", db.Writer(), 1}, {"Reader", storage.Reader(db), 2}} {
		t.Run(pool.name, func(t *testing.T) {
			for i := range pool.n { // holds every connection, so each is checked
				c, err := pool.db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				var on int
				if _, err := c.ExecContext(ctx, "PRAGMA writable_schema = ON"); err != nil {
					t.Fatal(err)
				}
				if err := c.QueryRowContext(ctx, "PRAGMA writable_schema").Scan(&on); err != nil || on != 0 {
					t.Errorf("connection %d: writable_schema = %d, %v after turning it on, want 0", i, on, err)
				}
			}
		})
	}
	_, err := db.Writer().ExecContext(ctx, "UPDATE sqlite_dbpage SET data = data WHERE pgno = 1")
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("writing sqlite_dbpage: %v, want SQLite's %q", err, "read-only")
	}
}
