package pg_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// open opens the engine on a fresh database, closed when t ends.
func open(t testing.TB, opts pg.Options) (*pg.DB, string) {
	t.Helper()
	url := pgtest.URL(t)
	db, err := pg.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, url
}

// twoNodes opens the engine twice on one fresh database, as two Warden
// nodes sharing it would, both with opts.
func twoNodes(t testing.TB, opts pg.Options) (*pg.DB, *pg.DB) {
	t.Helper()
	db1, url := open(t, opts)
	db2, err := pg.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db2.Close() })
	return db1, db2
}

// session returns a session in plugin's database, closed when t ends.
func session(t testing.TB, db storage.Databases, plugin string) storage.PluginSession {
	t.Helper()
	h, err := db.ForPlugin(context.Background(), plugin)
	if err != nil {
		t.Fatal(err)
	}
	s := h.NewSession()
	t.Cleanup(func() {
		_ = s.Close()
		_ = h.Close()
	})
	return s
}

// mustExec runs a statement that must succeed.
func mustExec(t testing.TB, s storage.PluginSession, query string, args ...any) int64 {
	t.Helper()
	n, err := s.Exec(context.Background(), query, args)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// mustQuery runs a query that must succeed.
func mustQuery(t testing.TB, s storage.PluginSession, query string, args ...any) *storage.Rows {
	t.Helper()
	rows, err := s.Query(context.Background(), query, args)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return rows
}

func TestDB_Engine(t *testing.T) {
	db, _ := open(t, pg.Options{})
	if got := db.Engine(); got != "postgres" {
		t.Errorf("Engine() = %q, want postgres", got)
	}
}

// TestDB_ForPlugin: the schema and role are made once and shared by every
// node; two nodes opening the same plugins at once both succeed and see
// the same data.
func TestDB_ForPlugin(t *testing.T) {
	db1, db2 := twoNodes(t, pg.Options{})
	plugins := []string{"kv", "Odd.Name-1", strings.Repeat("x", 63)}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(plugins))
	for _, db := range []*pg.DB{db1, db2} {
		for _, p := range plugins {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h, err := db.ForPlugin(context.Background(), p)
				if err == nil {
					err = h.Close()
				}
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range plugins {
		mustExec(t, session(t, db1, p), "CREATE TABLE t (id BIGINT PRIMARY KEY, v BLOB)")
		mustExec(t, session(t, db1, p), "INSERT INTO t VALUES (1, $1)", []byte("x"))
		rows := mustQuery(t, session(t, db2, p), "SELECT v FROM t")
		if len(rows.Values) != 1 || !reflect.DeepEqual(rows.Values[0][0], []byte("x")) {
			t.Errorf("%s: node 2 reads %v", p, rows.Values)
		}
	}
	t.Run("ErrBadName", func(t *testing.T) {
		for _, name := range []string{"", "-x", "a;b", `a"b`, strings.Repeat("x", 64)} {
			if _, err := db1.ForPlugin(context.Background(), name); !errors.Is(err, storage.ErrBadName) {
				t.Errorf("ForPlugin(%q) = %v, want ErrBadName", name, err)
			}
		}
	})
	t.Run("ErrClosed", func(t *testing.T) {
		s := session(t, db2, "kv")
		_ = db2.Close()
		if _, err := db2.ForPlugin(context.Background(), "kv"); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("ForPlugin after Close = %v, want ErrClosed", err)
		}
		if _, err := s.Exec(context.Background(), "SELECT 1", nil); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("Exec after Close = %v, want ErrClosed", err)
		}
	})
}

// TestSession_Values: each API type goes in and comes back as on SQLite.
func TestSession_Values(t *testing.T) {
	db, _ := open(t, pg.Options{})
	s := session(t, db, "values")
	mustExec(t, s, `CREATE TABLE vals (id BIGINT PRIMARY KEY, i BIGINT, f DOUBLE PRECISION, s TEXT, b BLOB)`)
	tests := []struct {
		name string
		col  string
		in   any
		want any
	}{
		{"null", "i", nil, nil},
		{"int64 min", "i", int64(math.MinInt64), int64(math.MinInt64)},
		{"int64 max", "i", int64(math.MaxInt64), int64(math.MaxInt64)},
		{"float", "f", 0.1, 0.1},
		{"+Inf", "f", math.Inf(1), math.Inf(1)},
		{"-Inf", "f", math.Inf(-1), math.Inf(-1)},
		{"NaN stored as NULL", "f", math.NaN(), nil},
		{"empty text", "s", "", ""},
		{"text", "s", "héllo, 世界", "héllo, 世界"},
		{"empty blob", "b", []byte{}, []byte{}},
		{"nil blob is empty", "b", []byte(nil), []byte{}},
		{"blob", "b", []byte{0, 0xff, 0x10}, []byte{0, 0xff, 0x10}},
		{"int into float column", "f", int64(3), 3.0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := int64(i)
			mustExec(t, s, "INSERT INTO vals (id, "+tt.col+") VALUES ($1, $2)", id, tt.in)
			rows := mustQuery(t, s, "SELECT "+tt.col+" FROM vals WHERE id = $1", id)
			if got := rows.Values[0][0]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	t.Run("Expressions", func(t *testing.T) {
		rows := mustQuery(t, s, "SELECT 1 = 1 AS yes, 1 = 2 AS no, SUM(id) AS total, COUNT(*) AS n, AVG(id) AS mean, 'NaN'::float8 AS nan, $1 AS p FROM vals", "x")
		want := []any{int64(1), int64(0), int64(78), int64(13), 6.0, nil, "x"}
		if !reflect.DeepEqual(rows.Values[0], want) {
			t.Errorf("got %#v, want %#v", rows.Values[0], want)
		}
		if cols := strings.Join(rows.Columns, ","); cols != "yes,no,total,n,mean,nan,p" {
			t.Errorf("columns %s", cols)
		}
	})
	t.Run("RowsAffected", func(t *testing.T) {
		if n := mustExec(t, s, "UPDATE vals SET s = 'u' WHERE id < 3"); n != 3 {
			t.Errorf("UPDATE affected %d, want 3", n)
		}
		if n := mustExec(t, s, "SELECT * FROM vals"); n != 0 {
			t.Errorf("SELECT via Exec affected %d, want 0", n)
		}
		rows := mustQuery(t, s, "DELETE FROM vals WHERE id = 0 RETURNING id")
		if len(rows.Values) != 1 {
			t.Errorf("DELETE RETURNING: %v", rows.Values)
		}
	})
	t.Run("ErrUnsupportedType", func(t *testing.T) {
		var sqlErr *storage.SQLError
		if _, err := s.Exec(context.Background(), "SELECT $1", []any{true}); !errors.As(err, &sqlErr) {
			t.Errorf("bool argument: %v, want *SQLError", err)
		}
	})
}

// TestSession_Errors: PostgreSQL's failures map onto the storage
// vocabulary as SQLite's do.
func TestSession_Errors(t *testing.T) {
	db, _ := open(t, pg.Options{MaxRows: 3, MaxResultBytes: 100})
	s := session(t, db, "errs")
	ctx := context.Background()
	mustExec(t, s, "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)")
	mustExec(t, s, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')")
	var sqlErr *storage.SQLError
	t.Run("SQLError", func(t *testing.T) {
		for _, q := range []string{"SELECT FROM WHERE", "INSERT INTO t VALUES (1, 'dup')", "SELECT * FROM missing"} {
			if _, err := s.Exec(ctx, q, nil); !errors.As(err, &sqlErr) || sqlErr.Msg == "" {
				t.Errorf("%s: %v, want *SQLError with a message", q, err)
			}
		}
	})
	t.Run("ErrLimit", func(t *testing.T) {
		if _, err := s.Query(ctx, "SELECT * FROM t", nil); !errors.Is(err, storage.ErrLimit) {
			t.Errorf("4 rows over MaxRows 3: %v", err)
		}
		if _, err := s.Query(ctx, "SELECT repeat('x', 101)", nil); !errors.Is(err, storage.ErrLimit) {
			t.Errorf("101 bytes over 100: %v", err)
		}
		// 13 NULLs count 8 bytes each, as a number does: 104 over 100.
		if _, err := s.Query(ctx, "SELECT "+strings.Repeat("NULL, ", 12)+"NULL", nil); !errors.Is(err, storage.ErrLimit) {
			t.Errorf("13 NULLs over 100 bytes: %v", err)
		}
		if _, err := s.Query(ctx, "SELECT "+strings.Repeat("'', ", 12)+"''", nil); !errors.Is(err, storage.ErrLimit) {
			t.Errorf("13 empty strings over 100 bytes: %v", err)
		}
		if rows := mustQuery(t, s, "SELECT "+strings.Repeat("NULL, ", 11)+"NULL"); len(rows.Values[0]) != 12 {
			t.Errorf("12 NULLs within 100 bytes: %v", rows.Values)
		}
		if rows := mustQuery(t, s, "SELECT id FROM t WHERE id <= 3"); len(rows.Values) != 3 {
			t.Errorf("after ErrLimit: %v", rows.Values)
		}
	})
	t.Run("ErrTxFailed", func(t *testing.T) {
		if err := s.Begin(ctx, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Exec(ctx, "INSERT INTO t VALUES (1, 'dup')", nil); !errors.As(err, &sqlErr) {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := s.Exec(ctx, "INSERT INTO t VALUES (10, 'x')", nil); !errors.Is(err, storage.ErrTxFailed) {
			t.Errorf("after a failure: %v, want ErrTxFailed", err)
		}
		if err := s.Commit(ctx); !errors.Is(err, storage.ErrTxFailed) {
			t.Errorf("commit: %v, want ErrTxFailed", err)
		}
		if err := s.Rollback(ctx); !errors.Is(err, storage.ErrNoTx) {
			t.Errorf("rollback after commit: %v, want ErrNoTx", err)
		}
		if rows := mustQuery(t, s, "SELECT COUNT(*) FROM t WHERE id = 10"); rows.Values[0][0] != int64(0) {
			t.Errorf("row 10 committed")
		}
	})
	t.Run("ErrReadOnly", func(t *testing.T) {
		if err := s.Begin(ctx, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Exec(ctx, "INSERT INTO t VALUES (11, 'x')", nil); !errors.Is(err, storage.ErrReadOnly) {
			t.Errorf("write in a read transaction: %v, want ErrReadOnly", err)
		}
		if err := s.Rollback(ctx); err != nil {
			t.Error(err)
		}
	})
	t.Run("ErrTxOpen", func(t *testing.T) {
		if err := s.Begin(ctx, true); err != nil {
			t.Fatal(err)
		}
		if err := s.Begin(ctx, true); !errors.Is(err, storage.ErrTxOpen) {
			t.Errorf("second Begin: %v", err)
		}
		if !s.InTx() {
			t.Error("InTx false in a transaction")
		}
		mustExec(t, s, "INSERT INTO t VALUES (12, 'x')")
		if err := s.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(ctx); !errors.Is(err, storage.ErrNoTx) {
			t.Errorf("second Commit: %v", err)
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if _, err := s.Exec(cctx, "SELECT pg_sleep(30)", nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("pg_sleep past the deadline: %v, want DeadlineExceeded", err)
		}
		mustQuery(t, s, "SELECT 1") // the session still works
	})
	t.Run("StatementTimeout", func(t *testing.T) {
		db, _ := open(t, pg.Options{StatementTimeout: 100 * time.Millisecond})
		s := session(t, db, "slow")
		if _, err := s.Exec(ctx, "SELECT pg_sleep(30)", nil); !errors.As(err, &sqlErr) || !strings.Contains(err.Error(), "statement timeout") {
			t.Errorf("pg_sleep past statement_timeout: %v", err)
		}
	})
	t.Run("ErrClosed", func(t *testing.T) {
		s := session(t, db, "errs")
		_ = s.Close()
		if _, err := s.Query(ctx, "SELECT 1", nil); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("closed session: %v", err)
		}
	})
}

// TestSession_hugeValue: a plugin selects one value far over the result
// limit. It is refused with storage.ErrLimit, and Warden never holds the
// value: PostgreSQL sends a row as one message, which the client would
// otherwise read whole, up to 1 GiB per connection, before any limit is
// checked.
func TestSession_hugeValue(t *testing.T) {
	db, _ := open(t, pg.Options{MaxConns: 1})
	s := session(t, db, "hog")
	const size = 256 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := s.Query(context.Background(), "SELECT repeat('x', $1::int)", []any{int64(size)})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, storage.ErrLimit) {
		t.Errorf("got %v, want ErrLimit", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > size/4 {
		t.Errorf("the query allocated %d MiB in Warden for a %d MiB value", n>>20, size>>20)
	}
	// The engine still serves the plugin afterwards.
	if rows := mustQuery(t, s, "SELECT 1"); len(rows.Values) != 1 {
		t.Errorf("after the refusal: %v", rows.Values)
	}
}

// TestSession_boundValueOverLimit: a bound TEXT or BLOB value over
// abi.MaxValueBytes is refused with storage.ErrLimit before it is sent, as
// SQLite refuses it, and nothing is stored; a value of exactly the limit
// is stored and comes back whole.
func TestSession_boundValueOverLimit(t *testing.T) {
	db, _ := open(t, pg.Options{})
	s := session(t, db, "big")
	ctx := context.Background()
	mustExec(t, s, "CREATE TABLE big_t (v TEXT, b BYTEA)")
	over := abi.MaxValueBytes + 1
	for _, tc := range []struct {
		sql string
		arg any
	}{
		{"INSERT INTO big_t (v) VALUES ($1)", strings.Repeat("x", over)},
		{"INSERT INTO big_t (b) VALUES ($1)", make([]byte, over)},
	} {
		if _, err := s.Exec(ctx, tc.sql, []any{tc.arg}); !errors.Is(err, storage.ErrLimit) {
			t.Errorf("a bound %T of %d bytes: %v, want ErrLimit", tc.arg, over, err)
		}
	}
	if rows := mustQuery(t, s, "SELECT count(*) FROM big_t"); rows.Values[0][0] != int64(0) {
		t.Errorf("%v rows stored after the refusals, want 0", rows.Values[0][0])
	}
	mustExec(t, s, "INSERT INTO big_t (b) VALUES ($1)", make([]byte, abi.MaxValueBytes))
	if rows := mustQuery(t, s, "SELECT b FROM big_t"); len(rows.Values) != 1 || len(rows.Values[0][0].([]byte)) != abi.MaxValueBytes {
		t.Errorf("a BYTEA of exactly MaxValueBytes did not come back whole")
	}
}
