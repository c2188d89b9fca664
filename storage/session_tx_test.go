package storage_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage"
)

func TestSession_Tx(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, storage.Options{})
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE t(v INTEGER)")

	t.Run("Commit", func(t *testing.T) {
		if err := s.Begin(ctx, true); err != nil {
			t.Fatal(err)
		}
		mustExec(t, s, "INSERT INTO t VALUES (1)")
		if got := count(t, db, "t"); got != 0 {
			t.Errorf("before Commit another session sees %d rows", got)
		}
		if err := s.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if s.InTx() {
			t.Error("InTx after Commit")
		}
		if got := count(t, db, "t"); got != 1 {
			t.Errorf("after Commit count = %d, want 1", got)
		}
	})
	t.Run("Rollback", func(t *testing.T) {
		if err := s.Begin(ctx, true); err != nil {
			t.Fatal(err)
		}
		mustExec(t, s, "INSERT INTO t VALUES (2)")
		if got := count(t, db, "t"); got != 1 {
			t.Errorf("inside tx another session sees %d rows", got)
		}
		if err := s.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if got := count(t, db, "t"); got != 1 {
			t.Errorf("after Rollback count = %d, want 1", got)
		}
	})
}

func TestSession_ReadSnapshot(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, storage.Options{})
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE t(v INTEGER)")
	if err := s.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	mustQuery(t, s, "SELECT count(*) FROM t") // takes the snapshot
	mustExec(t, session(t, db), "INSERT INTO t VALUES (1)")
	if got := mustQuery(t, s, "SELECT count(*) FROM t").Values[0][0]; got != int64(0) {
		t.Errorf("read tx sees %v rows, want its snapshot's 0", got)
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := mustQuery(t, s, "SELECT count(*) FROM t").Values[0][0]; got != int64(1) {
		t.Errorf("after the read tx: %v rows, want 1", got)
	}
}

func TestSession_TxFailed(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, storage.Options{})
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE t(v INTEGER UNIQUE)")

	t.Run("Commit", func(t *testing.T) {
		if err := s.Begin(ctx, true); err != nil {
			t.Fatal(err)
		}
		mustExec(t, s, "INSERT INTO t VALUES (1)")
		_, err := s.Exec(ctx, "INSERT INTO t VALUES (1)", nil)
		var sqlErr *storage.SQLError
		if !errors.As(err, &sqlErr) {
			t.Fatalf("duplicate insert: got %v, want *SQLError", err)
		}
		if _, err := s.Exec(ctx, "INSERT INTO t VALUES (2)", nil); !errors.Is(err, storage.ErrTxFailed) {
			t.Errorf("Exec after failure: got %v, want ErrTxFailed", err)
		}
		if _, err := s.Query(ctx, "SELECT 1", nil); !errors.Is(err, storage.ErrTxFailed) {
			t.Errorf("Query after failure: got %v, want ErrTxFailed", err)
		}
		if err := s.Commit(ctx); !errors.Is(err, storage.ErrTxFailed) {
			t.Errorf("Commit: got %v, want ErrTxFailed", err)
		}
		if s.InTx() {
			t.Error("InTx after Commit of a failed tx")
		}
		if got := count(t, db, "t"); got != 0 {
			t.Errorf("count = %d, want 0 (rolled back)", got)
		}
	})
	t.Run("Rollback", func(t *testing.T) {
		if err := s.Begin(ctx, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Exec(ctx, "SELECT * FROM missing", nil); err == nil {
			t.Fatal("want error")
		}
		if err := s.Rollback(ctx); err != nil {
			t.Fatalf("Rollback: %v", err)
		}
		mustExec(t, s, "INSERT INTO t VALUES (5)")
		if got := count(t, db, "t"); got != 1 {
			t.Errorf("count = %d, want 1", got)
		}
	})
}

func TestSession_ReadTx(t *testing.T) {
	ctx := context.Background()
	s := session(t, openDB(t, storage.Options{}))
	mustExec(t, s, "CREATE TABLE t(v INTEGER)")
	if err := s.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	mustQuery(t, s, "SELECT * FROM t")
	if _, err := s.Exec(ctx, "INSERT INTO t VALUES (1)", nil); !errors.Is(err, storage.ErrReadOnly) {
		t.Fatalf("write in read tx: got %v, want ErrReadOnly", err)
	}
	if _, err := s.Query(ctx, "SELECT * FROM t", nil); !errors.Is(err, storage.ErrTxFailed) {
		t.Errorf("after ErrReadOnly: got %v, want ErrTxFailed", err)
	}
	if err := s.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSession_TxMisuse(t *testing.T) {
	ctx := context.Background()
	s := session(t, openDB(t, storage.Options{}))
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{name: "CommitNoTx", run: func() error { return s.Commit(ctx) }, want: storage.ErrNoTx},
		{name: "RollbackNoTx", run: func() error { return s.Rollback(ctx) }, want: storage.ErrNoTx},
		{name: "Begin", run: func() error { return s.Begin(ctx, true) }, want: nil},
		{name: "BeginTwice", run: func() error { return s.Begin(ctx, false) }, want: storage.ErrTxOpen},
		{name: "StillInTx", run: func() error { return s.Commit(ctx) }, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSession_Close(t *testing.T) {
	db := openDB(t, storage.Options{BusyTimeout: 200 * time.Millisecond})
	mustExec(t, session(t, db), "CREATE TABLE t(v INTEGER)")
	ctx, cancel := context.WithCancel(context.Background())
	s := db.NewSession()
	if err := s.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Exec(ctx, "INSERT INTO t VALUES (1)", nil); err != nil {
		t.Fatal(err)
	}
	cancel() // the plugin call is over
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Exec(context.Background(), "SELECT 1", nil); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Exec after Close: got %v, want ErrClosed", err)
	}
	if got := count(t, db, "t"); got != 0 {
		t.Errorf("count = %d, want 0: Close must roll back", got)
	}
	// The writer connection went back to the pool without a transaction:
	// a new session can write at once.
	next := session(t, db)
	if err := next.Begin(context.Background(), true); err != nil {
		t.Fatalf("Begin after Close: %v", err)
	}
	mustExec(t, next, "INSERT INTO t VALUES (2)")
	if err := next.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, "t"); got != 1 {
		t.Errorf("count = %d, want 1", got)
	}
}

// TestSession_Busy pins down what a writer waiting for another writer gets:
// ErrBusy once BusyTimeout has passed, or the context's error if the
// context ends first.
func TestSession_Busy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "warden.db")
	opts := storage.Options{BusyTimeout: 50 * time.Millisecond}
	db := openAt(t, path, opts)
	other := openAt(t, path, opts) // another handle: SQLite's own locking
	mustExec(t, session(t, db), "CREATE TABLE t(v INTEGER)")
	holder := session(t, db)
	if err := holder.Begin(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	long, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	short, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	tests := []struct {
		name string
		db   *storage.DB
		ctx  context.Context
		run  func(ctx context.Context, s *storage.Session) error
		want error
	}{
		{name: "BeginQueued", db: db, ctx: long, run: beginWrite, want: storage.ErrBusy},
		{name: "ExecQueued", db: db, ctx: long, run: insert, want: storage.ErrBusy},
		{name: "BeginSQLiteBusy", db: other, ctx: long, run: beginWrite, want: storage.ErrBusy},
		{name: "ExecSQLiteBusy", db: other, ctx: long, run: insert, want: storage.ErrBusy},
		{name: "Deadline", db: db, ctx: short, run: beginWrite, want: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := session(t, tt.db)
			if err := tt.run(tt.ctx, s); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if s.InTx() {
				t.Error("InTx after a failed Begin")
			}
		})
	}
	t.Run("ReadersNotBlocked", func(t *testing.T) {
		rows := mustQuery(t, session(t, other), "SELECT count(*) FROM t")
		if got := rows.Values[0][0]; got != int64(0) {
			t.Errorf("count = %v, want 0", got)
		}
	})
}

func beginWrite(ctx context.Context, s *storage.Session) error { return s.Begin(ctx, true) }

func insert(ctx context.Context, s *storage.Session) error {
	_, err := s.Exec(ctx, "INSERT INTO t VALUES (1)", nil)
	return err
}

// TestSession_InterruptedTx checks a transaction whose statement is
// interrupted by the call's deadline: SQLite rolls such a transaction back
// by itself, the session reports it failed, and the writer connection goes
// back to the pool usable.
func TestSession_InterruptedTx(t *testing.T) {
	bg := context.Background()
	db := openDB(t, storage.Options{BusyTimeout: time.Second})
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE t(g INTEGER, i INTEGER)")
	if err := s.Begin(bg, true); err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, "INSERT INTO t VALUES (0, 0)")
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	endless := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) INSERT INTO t SELECT x, x FROM c"
	if _, err := s.Exec(ctx, endless, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	if err := s.Commit(bg); !errors.Is(err, storage.ErrTxFailed) {
		t.Errorf("Commit: got %v, want ErrTxFailed", err)
	}
	if err := insertTx(bg, db, 1, 1); err != nil {
		t.Fatalf("write after the interrupted tx: %v", err)
	}
	if got := count(t, db, "t"); got != 1 {
		t.Errorf("count = %d, want 1", got)
	}
}
