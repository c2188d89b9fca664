package pg_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
)

// rowsOf1K inserts rows from..to of t (k BIGINT PRIMARY KEY, v TEXT), each
// with 1,000 bytes of text: short enough to stay in the heap uncompressed,
// so that 1,000 rows take about 1.1 MB on disk.
const rowsOf1K = "INSERT INTO t SELECT g, repeat('x', 1000) FROM generate_series($1::bigint, $2::bigint) g"

// createT creates t for rowsOf1K, without autovacuum, so that only the
// vacuums Warden runs after each refusal free room, and the test does not
// depend on when autovacuum comes by.
const createT = "CREATE TABLE t (k BIGINT PRIMARY KEY, v TEXT) WITH (autovacuum_enabled = false, toast.autovacuum_enabled = false)"

// distinctKey is an index expression of some 640 bytes per row of t,
// which neither deduplication nor compression shrinks: 20 MD5 digests.
var distinctKey = func() string {
	terms := make([]string, 20)
	for i := range terms {
		terms[i] = fmt.Sprintf("md5(k::text || '%d')", i)
	}
	return strings.Join(terms, " || ")
}()

// count returns the rows of a plugin's table.
func count(t *testing.T, s storage.PluginSession, table string) int64 {
	t.Helper()
	return mustQuery(t, s, "SELECT count(*) FROM "+table).Values[0][0].(int64)
}

// TestSession_maxBytes checks the bound on a plugin's schema on disk: a
// write that takes it past Options.MaxBytes fails with storage.ErrLimit
// (as on SQLite, LIMIT_EXCEEDED at the ABI) and leaves the data as it was,
// whether it is an autocommit statement, a transaction's, grows a table's
// TOAST data or builds an index; after a delete the plugin writes again.
// Without it, nothing bounded a plugin's tables on PostgreSQL: one
// INSERT ... SELECT repeat(...) FROM generate_series(...) filled the
// server's disk, which every plugin, the accounts and the sessions share.
func TestSession_maxBytes(t *testing.T) {
	const limit = 4 << 20
	db, _ := open(t, pg.Options{MaxBytes: limit})
	s := session(t, db, "filler")
	ctx := context.Background()
	mustExec(t, s, createT)
	mustExec(t, s, rowsOf1K, int64(1), int64(3000)) // about 3.5 MB
	refused := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, storage.ErrLimit) {
			t.Fatalf("%s past a bound of %d bytes: %v, want ErrLimit", what, limit, err)
		}
		if n := count(t, s, "t"); n != 3000 {
			t.Fatalf("after %s: %d rows, want the 3000 committed before", what, n)
		}
	}
	_, err := s.Exec(ctx, rowsOf1K, []any{int64(3001), int64(13000)})
	refused("an autocommit insert of 10 MB", err)

	if err := s.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Exec(ctx, rowsOf1K, []any{int64(3001), int64(4000)}); err != nil {
		t.Fatalf("an insert inside a transaction, checked at its commit: %v", err)
	}
	refused("a transaction's insert of 1 MB", s.Commit(ctx))

	_, err = s.Exec(ctx, "CREATE INDEX ON t (("+distinctKey+"))", nil)
	refused("an index of 2 MB", err)

	mustExec(t, s, "CREATE TABLE big (v TEXT) WITH (autovacuum_enabled = false, toast.autovacuum_enabled = false)")
	mustExec(t, s, "ALTER TABLE big ALTER COLUMN v SET STORAGE EXTERNAL") // TOAST, uncompressed
	_, err = s.Exec(ctx, "INSERT INTO big SELECT repeat('x', 1000000) FROM generate_series(1, 8)", nil)
	refused("8 MB of TOAST data", err)
	if n := count(t, s, "big"); n != 0 {
		t.Fatalf("%d rows in big after the refusal", n)
	}

	p := session(t, db, "Part-It.Ion") // a schema of its own (a name to quote), which the refusals above left no room in
	mustExec(t, p, "CREATE TABLE p (k BIGINT, v TEXT) PARTITION BY RANGE (k)")
	mustExec(t, p, "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (1000000) WITH (autovacuum_enabled = false)")
	if _, err := p.Exec(ctx, "INSERT INTO p SELECT g, repeat('x', 1000) FROM generate_series(1, 5000) g", nil); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("5 MB in a partition: %v, want ErrLimit", err)
	}
	if err := p.Begin(ctx, true); err != nil { // measured at its start, after the refusal
		t.Fatal(err)
	}
	mustExec(t, p, "INSERT INTO p VALUES (1, 'x')")
	if err := p.Commit(ctx); err != nil {
		t.Fatalf("a small transaction after the refusal: %v", err)
	}

	mustExec(t, s, "DELETE FROM t WHERE k > 1000")
	mustExec(t, s, rowsOf1K, int64(3001), int64(4500)) // in the room the delete made
	if n := count(t, s, "t"); n != 2500 {
		t.Fatalf("%d rows after a delete and an insert, want 2500", n)
	}
}

// TestSession_maxBytesOverTheBound: a plugin whose schema is over the
// bound already (the operator lowered it) may still delete, in an
// autocommit statement or a transaction, and truncate, but not grow; once
// under the bound again it writes as before.
func TestSession_maxBytesOverTheBound(t *testing.T) {
	_, url := open(t, pg.Options{})
	ctx := context.Background()
	db, err := pg.Open(ctx, url, pg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := session(t, db, "hoarder")
	mustExec(t, s, createT)
	mustExec(t, s, rowsOf1K, int64(1), int64(3000)) // about 3.5 MB
	small, err := pg.Open(ctx, url, pg.Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	s = session(t, small, "hoarder")
	if _, err := s.Exec(ctx, rowsOf1K, []any{int64(3001), int64(3100)}); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("100 more rows over the bound: %v, want ErrLimit", err)
	}
	if n := mustExec(t, s, "DELETE FROM t WHERE k <= 100"); n != 100 {
		t.Fatalf("deleted %d rows, want 100", n)
	}
	if err := s.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, "DELETE FROM t WHERE k <= 200")
	if err := s.Commit(ctx); err != nil {
		t.Fatalf("a transaction that deletes over the bound: %v", err)
	}
	if err := s.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "t"); n != 2800 {
		t.Fatalf("%d rows after the deletes, want 2800", n)
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatalf("a write transaction that only read, over the bound: %v", err)
	}
	mustExec(t, s, "TRUNCATE t")
	mustExec(t, s, rowsOf1K, int64(1), int64(100))
	if n := count(t, s, "t"); n != 100 {
		t.Fatalf("%d rows after a truncate and an insert, want 100", n)
	}
}

// TestSession_maxBytesAtTheBound: a plugin that writes until it is
// refused, as one at its bound does, then deletes, writes into the room
// the delete made, in autocommit statements and in transactions; a
// refusal's pages that VACUUM does not give back (too few
// to truncate) do not leave it unable to write.
func TestSession_maxBytesAtTheBound(t *testing.T) {
	db, _ := open(t, pg.Options{MaxBytes: 2 << 20})
	s := session(t, db, "steady")
	ctx := context.Background()
	mustExec(t, s, createT)
	k := int64(0)
	var err error
	for err == nil {
		if _, err = s.Exec(ctx, rowsOf1K, []any{k + 1, k + 10}); err == nil {
			k += 10
		}
	}
	if !errors.Is(err, storage.ErrLimit) || k < 1000 {
		t.Fatalf("after %d rows: %v, want ErrLimit after about 1,900", k, err)
	}
	for round := range 5 {
		mustExec(t, s, "DELETE FROM t WHERE k <= $1", int64(round+1)*50)
		mustExec(t, s, rowsOf1K, k+1, k+50)
		k += 50
		if err := s.Begin(ctx, true); err != nil {
			t.Fatal(err)
		}
		mustExec(t, s, "DELETE FROM t WHERE k > $1", k-10)
		mustExec(t, s, rowsOf1K, k-9, k)
		if err := s.Commit(ctx); err != nil {
			t.Fatalf("round %d: a transaction that deletes 10 rows and writes 10: %v", round, err)
		}
	}
}

// TestDeletes checks which statements count as deletes for the bound: by
// their first word, so that nothing that could add rows passes for one.
func TestDeletes(t *testing.T) {
	for _, c := range []struct {
		name, query string
		want        bool
	}{
		{"delete", "DELETE FROM t", true},
		{"lower case, leading space", "\n  delete from t where k = 1", true},
		{"truncate", "TRUNCATE t", true},
		{"drop", "DROP TABLE t", true},
		{"insert", "INSERT INTO t VALUES (1)", false},
		{"update", "UPDATE t SET v = ''", false},
		{"select into", "SELECT * INTO u FROM t", false},
		{"with", "WITH d AS (DELETE FROM t RETURNING *) INSERT INTO u SELECT * FROM d", false},
		{"comment first", "/* */ DELETE FROM t", false},
		{"a longer word", "DELETED", false},
		{"empty", "", false},
	} {
		if got := pg.Deletes(c.query); got != c.want {
			t.Errorf("%s: deletes(%q) = %v, want %v", c.name, c.query, got, c.want)
		}
	}
}

// TestOptions_maxBytesNegative: a negative bound is refused, as on SQLite.
func TestOptions_maxBytesNegative(t *testing.T) {
	if _, err := pg.Open(context.Background(), "postgres://127.0.0.1:1/none", pg.Options{MaxBytes: -1}); err == nil {
		t.Fatal("MaxBytes -1 opened")
	}
}
