package storage

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/warden-rpc/warden/abi"
)

// likePieces are what the random patterns and values are made of: the
// wildcards of both, class syntax, ASCII letters of both cases, and
// UTF-8 as SQLite reads it, valid or not (a lone continuation byte, a
// lead byte alone, an overlong NUL, a surrogate, U+FFFE, a 5-byte form).
var likePieces = []string{
	"a", "A", "b", "B", "z", "%", "_", "*", "?", "[", "]", "^", "-", "\\", "x",
	"é", "É", "€", "\x80", "\xbf", "\xc3", "\xff", "\xc0\x80", "\xed\xa0\x80",
	"\xef\xbf\xbe", "\xf8\x88\x80\x80\x80", "\xe2\x82",
	"[a-c]", "[b-b]", "[^a]", "[]a]", "[^]b-]", "[-a]", "[z-a]", "[a-\xc3\xa9-z]", "[A-Za-z]", "[\x80-\xff]", "[a-",
}

// fewPieces make long patterns whose segments repeat, for the search of
// the segments between match-all wildcards.
var fewPieces = []string{"a", "a", "a", "b", "A", "%", "_", "*", "?", "[ab]"}

// randomLike returns a string of up to n pieces.
func randomLike(r *rand.Rand, n int) string { return randomOf(r, likePieces, n) }

// randomOf returns a string of up to n of pieces.
func randomOf(r *rand.Rand, pieces []string, n int) string {
	var b strings.Builder
	for k := r.IntN(n + 1); k > 0; k-- {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// TestLike_matchesSQLite compares the matcher with SQLite's own
// (sqlite3_strglob and sqlite3_strlike, SQLite's patternCompare) on
// random patterns and values.
func TestLike_matchesSQLite(t *testing.T) {
	tls := libc.NewTLS()
	defer tls.Close()
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300000; n++ {
		pat, s := randomLike(r, 8), randomLike(r, 10)
		if n%2 == 1 {
			pat, s = randomOf(r, fewPieces, 16), randomOf(r, fewPieces[:5], 40)
		}
		if n%3 == 0 { // values made of the pattern's pieces match more often
			s = strings.NewReplacer("%", "", "*", "", "_", "x", "?", "y").Replace(pat) + randomLike(r, 2)
		}
		cp, cs := cstr(tls, pat), cstr(tls, s)
		clock := &likeClock{}
		got, _ := compileLike(pat, globRulesOf).match(s, clock)
		if want := sqlite3.Xsqlite3_strglob(tls, cp, cs) == 0; got != want {
			t.Fatalf("%q GLOB %q: got %v, SQLite %v", s, pat, got, want)
		}
		got, _ = compileLike(pat, likeRulesOf).match(s, clock)
		if want := sqlite3.Xsqlite3_strlike(tls, cp, cs, 0) == 0; got != want {
			t.Fatalf("%q LIKE %q: got %v, SQLite %v", s, pat, got, want)
		}
		// An escape that is no wildcard (like() itself takes a wildcard
		// chosen as the escape out of the wildcards; TestLike_functionsMatchSQLite).
		esc := []uint32{'\\', 'a', 'x', 0xe9, 0xfffd, 0x80}[n%6]
		rules := likeRulesOf
		rules.esc = esc
		got, _ = compileLike(pat, rules).match(s, clock)
		if want := sqlite3.Xsqlite3_strlike(tls, cp, cs, esc) == 0; got != want {
			t.Fatalf("%q LIKE %q ESCAPE %U: got %v, SQLite %v", s, pat, esc, got, want)
		}
		libc.Xfree(tls, cp)
		libc.Xfree(tls, cs)
	}
}

// cstr returns s as a C string.
func cstr(tls *libc.TLS, s string) uintptr {
	p := libc.Xmalloc(tls, libc.Tsize_t(len(s)+1))
	copy(unsafe.Slice((*byte)(cptr(p)), len(s)+1), s+"\x00")
	return p
}

// rawSQLite is a connection of SQLite's own, opened through its C
// interface, not the driver: its LIKE and GLOB are SQLite's.
type rawSQLite struct {
	tls *libc.TLS
	db  uintptr
}

func openRawSQLite(t testing.TB) *rawSQLite {
	t.Helper()
	tls := libc.NewTLS()
	name := cstr(tls, ":memory:")
	defer libc.Xfree(tls, name)
	pdb := libc.Xmalloc(tls, 8)
	defer libc.Xfree(tls, pdb)
	if rc := sqlite3.Xsqlite3_open_v2(tls, name, pdb, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_CREATE, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("open: %d", rc)
	}
	raw := &rawSQLite{tls: tls, db: *(*uintptr)(cptr(pdb))}
	t.Cleanup(func() {
		sqlite3.Xsqlite3_close_v2(tls, raw.db)
		tls.Close()
	})
	return raw
}

// openMemory opens an in-memory database of one connection through the
// driver, as Warden opens its databases: its LIKE and GLOB are Warden's.
func openMemory(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	return db
}

// prepare prepares query on raw; the caller finalizes the statement.
func (raw *rawSQLite) prepare(query string) (uintptr, error) {
	tls := raw.tls
	q := cstr(tls, query)
	defer libc.Xfree(tls, q)
	pstmt := libc.Xmalloc(tls, 8)
	defer libc.Xfree(tls, pstmt)
	if rc := sqlite3.Xsqlite3_prepare_v2(tls, raw.db, q, -1, pstmt, 0); rc != sqlite3.SQLITE_OK {
		return 0, fmt.Errorf("%s", libc.GoString(sqlite3.Xsqlite3_errmsg(tls, raw.db)))
	}
	return *(*uintptr)(cptr(pstmt)), nil
}

// column runs query and returns column i of its first row as text
// ("NULL" for NULL), or SQLite's error message; i < 0 runs a statement
// that returns no row.
func (raw *rawSQLite) column(query string, i int32) (string, error) {
	tls := raw.tls
	stmt, err := raw.prepare(query)
	if err != nil {
		return "", err
	}
	defer sqlite3.Xsqlite3_finalize(tls, stmt)
	switch rc := sqlite3.Xsqlite3_step(tls, stmt); {
	case rc == sqlite3.SQLITE_DONE && i < 0:
		return "", nil
	case rc != sqlite3.SQLITE_ROW:
		return "", fmt.Errorf("%s", libc.GoString(sqlite3.Xsqlite3_errmsg(tls, raw.db)))
	}
	if sqlite3.Xsqlite3_column_type(tls, stmt, i) == sqlite3.SQLITE_NULL {
		return "NULL", nil
	}
	return libc.GoString(sqlite3.Xsqlite3_column_text(tls, stmt, i)), nil
}

// texts runs query and returns the first column of its rows as text.
func (raw *rawSQLite) texts(query string) ([]string, error) {
	tls := raw.tls
	stmt, err := raw.prepare(query)
	if err != nil {
		return nil, err
	}
	defer sqlite3.Xsqlite3_finalize(tls, stmt)
	var out []string
	for {
		switch rc := sqlite3.Xsqlite3_step(tls, stmt); rc {
		case sqlite3.SQLITE_ROW:
			out = append(out, libc.GoString(sqlite3.Xsqlite3_column_text(tls, stmt, 0)))
		case sqlite3.SQLITE_DONE:
			return out, nil
		default:
			return nil, fmt.Errorf("%s", libc.GoString(sqlite3.Xsqlite3_errmsg(tls, raw.db)))
		}
	}
}

// sqlLiteral returns v as an SQL expression of the same type and bytes
// (NUL bytes included).
func sqlLiteral(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return fmt.Sprintf("CAST(X'%x' AS TEXT)", x)
	case []byte:
		return fmt.Sprintf("X'%x'", x)
	}
	return fmt.Sprint(v)
}

// TestLike_functionsMatchSQLite compares like() and glob() on Warden's
// connections with SQLite's own, through SQL: both wildcards as ESCAPE,
// NULLs, BLOBs, numbers, NUL bytes, a wrong escape, a pattern over the
// limit and wrong numbers of arguments.
func TestLike_functionsMatchSQLite(t *testing.T) {
	raw, db := openRawSQLite(t), openMemory(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	arg := func() any {
		switch k := r.IntN(20); {
		case k == 0:
			return nil
		case k == 1:
			return []byte(randomLike(r, 4))
		case k == 2:
			return r.IntN(200) - 100
		case k == 3:
			return 1.5
		case k == 4:
			return randomLike(r, 3) + "\x00" + randomLike(r, 3)
		}
		return randomLike(r, 8)
	}
	escapes := []any{"%", "_", "*", "?", "[", "\\", "a", "é", "", "ab", "\x00", nil, []byte("x"), 5, "\xff", "\xc3\xa9\x80"}
	fixed := []string{
		"SELECT like('a', 'b', 'c', 'd')", "SELECT like('a')", "SELECT glob('a', 'b', 'c')",
		"SELECT like(printf('%.*c', 50001, 'a'), 'a')", "SELECT like(printf('%.*c', 50000, '%'), 'a')",
		"SELECT glob(printf('%.*c', 50001, '*'), 'a')", "SELECT 'abc' LIKE 'a%' ESCAPE NULL",
		"SELECT NULL LIKE 'a' ESCAPE 'ab'", "SELECT X'00' LIKE NULL ESCAPE 'ab'",
	}
	for n := 0; n < len(fixed)+20000; n++ {
		var q string
		pat, s := arg(), arg()
		switch {
		case n < len(fixed):
			q = fixed[n]
		case n%4 == 0:
			q = fmt.Sprintf("SELECT like(%s, %s)", sqlLiteral(pat), sqlLiteral(s))
		case n%4 == 1:
			q = fmt.Sprintf("SELECT glob(%s, %s)", sqlLiteral(pat), sqlLiteral(s))
		case n%4 == 2:
			q = fmt.Sprintf("SELECT %s LIKE %s ESCAPE %s", sqlLiteral(s), sqlLiteral(pat), sqlLiteral(escapes[r.IntN(len(escapes))]))
		default:
			q = fmt.Sprintf("SELECT %s NOT LIKE %s", sqlLiteral(s), sqlLiteral(pat))
		}
		want, wantErr := raw.column(q, 0)
		var v any
		gotErr := db.QueryRowContext(ctx, q).Scan(&v)
		got := "NULL"
		if v != nil {
			got = fmt.Sprint(v)
		}
		switch {
		case wantErr != nil && gotErr == nil:
			t.Fatalf("%s: got %s, SQLite failed: %v", q, got, wantErr)
		case wantErr == nil && gotErr != nil:
			t.Fatalf("%s: failed (%v), SQLite gave %s", q, gotErr, want)
		case wantErr != nil && !strings.Contains(gotErr.Error(), wantErr.Error()):
			t.Fatalf("%s: failed with %v, SQLite with %v", q, gotErr, wantErr)
		case wantErr == nil && got != want:
			t.Fatalf("%s: got %s, SQLite %s", q, got, want)
		}
	}
}

// TestLike_indexRange: Warden's LIKE and GLOB are flagged for the query
// planner as SQLite's are, so a prefix search uses an index range, GLOB
// on a column of the default collation and LIKE on a NOCASE one, with the
// plans and the rows of SQLite's own.
func TestLike_indexRange(t *testing.T) {
	raw, db := openRawSQLite(t), openMemory(t)
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Raw(func(dc any) error {
		_, h := driverConn(dc)
		return flagLikeFuncs(h) // finds Warden's three functions, or fails
	}); err != nil {
		t.Fatal(err)
	}
	setup := []string{
		"CREATE TABLE t(k TEXT, n TEXT COLLATE NOCASE)",
		"CREATE INDEX tk ON t(k)",
		"CREATE INDEX tn ON t(n)",
		"INSERT INTO t VALUES ('abc','abc'), ('abd','ABD'), ('ABC','Abc'), ('ab','ab'), ('abc1','ABC1'), ('b','b')",
	}
	for _, q := range setup {
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.column(q, -1); err != nil {
			t.Fatal(err)
		}
	}
	for _, c2 := range []struct{ where, plan string }{
		{"k GLOB 'abc*'", "USING COVERING INDEX tk (k>? AND k<?)"},
		{"n LIKE 'abc%'", "USING INDEX tn (n>? AND n<?)"},
		{"n LIKE 'a_c%'", "USING INDEX tn (n>? AND n<?)"},
	} {
		q := "SELECT group_concat(k, ',') FROM (SELECT k FROM t WHERE " + c2.where + " ORDER BY k)"
		var got string
		if err := c.QueryRowContext(ctx, q).Scan(&got); err != nil {
			t.Fatal(err)
		}
		want, err := raw.column(q, 0)
		if err != nil || got != want {
			t.Errorf("%s: rows %q, SQLite %q (%v)", c2.where, got, want, err)
		}
		plan := "EXPLAIN QUERY PLAN SELECT k FROM t WHERE " + c2.where
		var id, parent, notused int
		var detail string
		if err := c.QueryRowContext(ctx, plan).Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		rawDetail, err := raw.column(plan, 3)
		if err != nil || !strings.Contains(detail, c2.plan) || detail != rawDetail {
			t.Errorf("%s: plan %q, SQLite %q (%v), want %q", c2.where, detail, rawDetail, err, c2.plan)
		}
	}
}

// BenchmarkLike scans 10,000 rows of about 40 bytes with LIKE and GLOB,
// on SQLite's own functions (sqlite) and Warden's (warden, on a plugin
// database's connection), in one run.
func BenchmarkLike(b *testing.B) {
	raw := openRawSQLite(b)
	wdb, err := Open(context.Background(), filepath.Join(b.TempDir(), "like.db"), Options{MaxMemoryBytes: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer wdb.Close()
	db := wdb.writer // a bounded database's connection, as a plugin's
	fill := "CREATE TABLE t AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 10000) " +
		"SELECT printf('row %d of the table, Some Text %x', i, i*7919) AS v FROM n"
	if _, err := db.Exec(fill); err != nil {
		b.Fatal(err)
	}
	if _, err := raw.column(fill, -1); err != nil {
		b.Fatal(err)
	}
	for _, where := range []string{"v LIKE '%some text 1%'", "v LIKE 'row 1%'", "v GLOB '*Text [0-9]?7*'"} {
		q := "SELECT count(*) FROM t WHERE " + where
		var want string
		b.Run("sqlite/"+where, func(b *testing.B) {
			for b.Loop() {
				if want, err = raw.column(q, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("warden/"+where, func(b *testing.B) {
			var got string
			for b.Loop() {
				if err := db.QueryRow(q).Scan(&got); err != nil {
					b.Fatal(err)
				}
			}
			if got != want {
				b.Fatalf("%s: %s rows, SQLite %s", where, got, want)
			}
		})
	}
}

// TestLike_cacheCharged: a connection keeps its compiled patterns, the
// longest (abi.MaxLikePatternBytes) too, so that a scan compiles its
// pattern once; what they hold is charged to the database's memory
// budget, and given back when the connection closes.
func TestLike_cacheCharged(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "like.db"), Options{MaxMemoryBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	heap := db.vfs.heap
	pat := "%" + strings.Repeat("ab_", abi.MaxLikePatternBytes/3-1) + "%"
	c, err := db.writer.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.QueryRowContext(ctx, `WITH RECURSIVE r(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM r LIMIT 200)
		SELECT count(*) FROM r WHERE printf('%d', k) LIKE ?`, pat).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows, %v", n, err)
	}
	var cached likeCached
	if err := c.Raw(func(dc any) error {
		tls, _ := driverConn(dc)
		for _, e := range connOf(tls).like.entries {
			if e.pat == pat {
				cached = e
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if cached.p == nil || cached.cost < int64(len(pat)) || heap.used.Load() < cached.cost {
		t.Fatalf("the pattern of %d bytes: cached %v, charged %d, the budget's use %d", len(pat), cached.p != nil, cached.cost, heap.used.Load())
	}
	c.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if used := heap.used.Load(); used != 0 {
		t.Errorf("the database is closed and its budget still has %d bytes charged", used)
	}
}
