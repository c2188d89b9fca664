package storage

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// jsonLabels are the labels of the random documents: few, so that patches
// meet the target's keys, and spelled in every way SQLite reads one label
// (quoted, single-quoted and bare in JSON5, escaped), so that labels of
// different spellings must match.
var jsonLabels = []string{
	`"a"`, `"b"`, `"c"`, `"ab"`, `""`, `"é"`, `"\u00e9"`, `"\u0061"`, `"a\"b"`, `"\/"`, `"/"`,
	`a`, `b`, `$c`, `'a'`, `'b\''`, `"\x61"`, `'\u0062'`, `"\t"`, `"	"`, `"a\
b"`,
}

// jsonScalars are the leaves of the random documents, JSON5's included.
var jsonScalars = []string{
	"null", "null", "null", "true", "false", "0", "-1", "2.5e3", "1E-2", "0x1F", ".5", "+3", "5.",
	"Infinity", "-Infinity", "NaN", `"x"`, `'y'`, `"\u00e9\n"`, `"a\x41"`, `""`, `"null"`, `"{}"`,
}

// jsonSpace is what may stand between tokens: JSON's white space, and
// JSON5's comments and other spaces.
var jsonSpace = []string{"", "", "", " ", "\n", "\t", "/* c */", "// c\n", "\u00a0", "\r\n"}

// randomJSON returns a random JSON value of at most depth levels of
// objects and arrays; json5 allows JSON5's syntax.
func randomJSON(r *rand.Rand, depth int, json5 bool) string {
	sp := func() string {
		if !json5 {
			return jsonSpace[r.IntN(5)]
		}
		return jsonSpace[r.IntN(len(jsonSpace))]
	}
	var b strings.Builder
	switch k := r.IntN(10); {
	case depth > 0 && k < 6:
		b.WriteString("{" + sp())
		n := r.IntN(6)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString("," + sp())
			}
			key := jsonLabels[r.IntN(len(jsonLabels))]
			for !json5 && (key[0] != '"' || strings.Contains(key, `\x`) || strings.Contains(key, "\\\n") || strings.Contains(key, "\t")) {
				key = jsonLabels[r.IntN(len(jsonLabels))]
			}
			b.WriteString(key + sp() + ":" + sp() + randomJSON(r, depth-1, json5) + sp())
		}
		if json5 && n > 0 && r.IntN(4) == 0 {
			b.WriteString(",")
		}
		b.WriteString("}")
	case depth > 0 && k < 8:
		b.WriteString("[" + sp())
		for i, n := 0, r.IntN(4); i < n; i++ {
			if i > 0 {
				b.WriteString("," + sp())
			}
			b.WriteString(randomJSON(r, depth-1, json5))
		}
		b.WriteString("]")
	default:
		s := jsonScalars[r.IntN(len(jsonScalars))]
		for !json5 && strings.ContainsAny(s[:1], "0x.+5INn'") && s != "null" && s != "0" {
			s = jsonScalars[r.IntN(len(jsonScalars))]
		}
		b.WriteString(s)
	}
	return b.String()
}

// jsonPatchArg returns a random argument of json_patch as an SQL
// expression: JSON or JSON5 text, JSONB made of it by SQLite's jsonb(),
// a damaged JSONB blob, malformed text, NULL, a number, a blob of text.
func jsonPatchArg(r *rand.Rand, raw *rawSQLite) string {
	doc := randomJSON(r, 4, r.IntN(2) == 0)
	switch k := r.IntN(40); {
	case k < 14:
		return sqlLiteral(doc)
	case k < 26:
		return "jsonb(" + sqlLiteral(doc) + ")"
	case k < 30: // JSONB with a byte changed: SQLite may take it, parse it as text, or find it malformed
		h, err := raw.column("SELECT hex(jsonb("+sqlLiteral(doc)+"))", 0)
		if err != nil {
			return "NULL"
		}
		b, _ := hex.DecodeString(h)
		if len(b) > 0 {
			i := r.IntN(len(b))
			switch r.IntN(3) {
			case 0:
				b[i] = byte(r.IntN(256))
			case 1:
				b[i] ^= 1 << r.IntN(8)
			default:
				b[i] = b[i]&0xf0 | byte(r.IntN(16))
			}
		}
		return sqlLiteral(b)
	case k < 32: // malformed text
		if len(doc) > 1 {
			i := r.IntN(len(doc))
			return sqlLiteral(doc[:i] + doc[i+1:])
		}
		return sqlLiteral("{")
	case k < 33:
		return "NULL"
	case k < 34:
		return []string{"1", "2.5", "-0", "''", "' '", "'null'", "X''", "X'00'"}[r.IntN(8)]
	case k < 36:
		return sqlLiteral([]byte(doc)) // JSON text as a BLOB
	default:
		return sqlLiteral(randomJSON(r, 2, false))
	}
}

// jsonPatchQueries are hand-written cases: RFC 7396's examples
// (appendix A), JSON5, JSONB, duplicates, depths, wrong arguments.
var jsonPatchQueries = []string{
	`SELECT json_patch('{"a":"b"}', '{"a":"c"}')`,
	`SELECT json_patch('{"a":"b"}', '{"b":"c"}')`,
	`SELECT json_patch('{"a":"b"}', '{"a":null}')`,
	`SELECT json_patch('{"a":"b","b":"c"}', '{"a":null}')`,
	`SELECT json_patch('{"a":["b"]}', '{"a":"c"}')`,
	`SELECT json_patch('{"a":"c"}', '{"a":["b"]}')`,
	`SELECT json_patch('{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}')`,
	`SELECT json_patch('{"a":[{"b":"c"}]}', '{"a":[1]}')`,
	`SELECT json_patch('["a","b"]', '["c","d"]')`,
	`SELECT json_patch('{"a":"b"}', '["c"]')`,
	`SELECT json_patch('{"a":"foo"}', 'null')`,
	`SELECT json_patch('{"a":"foo"}', '"bar"')`,
	`SELECT json_patch('{"e":null}', '{"a":1}')`,
	`SELECT json_patch('[1,2]', '{"a":"b","c":null}')`,
	`SELECT json_patch('{}', '{"a":{"bb":{"ccc":null}}}')`,
	`SELECT json_patch('{"a":1,"a":2,"b":3}', '{"a":null,"a":null,"b":{"x":1},"b":{"y":2}}')`,
	`SELECT json_patch('{a:1, ''b'':2, /* c */ "c":3,}', '{a:null, b:0x10, "\u0063":Infinity,}')`,
	`SELECT json_patch('{"\u0061":1}', '{"a":2}')`,
	`SELECT json_patch('{"a":1}', '{"\u0061":2, "\x61":3}')`,
	`SELECT jsonb_patch('{"a":1}', '{"b":2}')`,
	`SELECT json_patch(jsonb('{"a":{"b":1}}'), jsonb('{"a":{"c":2}}'))`,
	`SELECT json_patch(NULL, '{}')`, `SELECT json_patch('{}', NULL)`, `SELECT json_patch(NULL, NULL)`,
	`SELECT json_patch('', '{}')`, `SELECT json_patch('{}', '')`, `SELECT json_patch('{', '{}')`,
	`SELECT json_patch('{}', '{"a":}')`, `SELECT json_patch(1, 2)`, `SELECT json_patch('{}', 1.5)`,
	`SELECT json_patch(X'00', '{}')`, `SELECT json_patch('{}', X'0c')`, `SELECT json_patch(X'7b7d', X'7b7d')`,
	`SELECT json_patch('{}')`, `SELECT json_patch('{}', '{}', '{}')`, `SELECT jsonb_patch()`,
	`SELECT json_array(json_patch('{"a":1}', '{"b":[2]}'))`, `SELECT json_patch('{"a":1}', '{"b":2}') -> '$.b'`,
	`SELECT json_patch(printf('%.*c', 999, '[') || printf('%.*c', 999, ']'), '{}')`,
	`SELECT json_patch('{}', replace(printf('%.*c', 998, 'x'), 'x', '{"a":') || '1' || printf('%.*c', 998, '}'))`,
	`SELECT json_patch('{}', replace(printf('%.*c', 999, 'x'), 'x', '{"a":') || '1' || printf('%.*c', 999, '}'))`,
	`SELECT json_patch('{}', replace(printf('%.*c', 1000, 'x'), 'x', '{"a":') || '1' || printf('%.*c', 1000, '}'))`,
	`SELECT json_patch(replace(printf('%.*c', 999, 'x'), 'x', '{"a":') || '1' || printf('%.*c', 999, '}'),
		replace(printf('%.*c', 999, 'x'), 'x', '{"a":') || '2' || printf('%.*c', 999, '}'))`,
	`SELECT json_patch(json_group_object('k' || value, value), json_group_object('k' || (value * 3), NULL)) FROM (WITH RECURSIVE c(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM c LIMIT 300) SELECT value FROM c)`,
	`SELECT jsonb_patch(json_group_object('k' || value, json_object('v', value)), json_group_object('k' || (value * 2), json_object('w', value, 'v', NULL))) FROM (WITH RECURSIVE c(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM c LIMIT 300) SELECT value FROM c)`,
	`SELECT json_patch(a, b) || json_patch(a, a) || json_patch(b, a) || jsonb_patch(a, b) FROM (SELECT '{"a":1,"b":{"c":2}}' AS a, '{"b":{"d":3}}' AS b)`,
	`SELECT json_patch(json_patch('{"a":1}', '{"b":2}'), json_patch('{}', '{"c":null,"d":[1]}'))`,
	`SELECT json_patch(jsonb_patch('{"a":{"x":1}}', '{"a":{"y":2}}'), jsonb_patch(jsonb('{"a":{"x":null}}'), '{}'))`,
	`SELECT group_concat(json_patch(column1, column2), ';') FROM (VALUES ('{"k":1}', '{"k":2}'), ('{"k":1}', '{"k":2}'), ('{"k":1}', '{"j":{}}'), ('[1]', '{"k":2}'), ('{"k":1}', '{"k":2}'))`,
	`SELECT json_patch('{"a":1}', json_object('b', json_patch('{}', '{"c":2}'), 'd', '{"e":3}'))`,
	`SELECT json_patch('{"a":' || printf('"%.*c"', 300, 'x') || ',"b":1}', '{"a":{"c":1},"b":' || printf('"%.*c"', 70000, 'y') || '}')`,
}

// nestedJSONB returns the JSONB of n objects, each the value of "a" in
// the one around it, around value (JSONB), built by hand: SQLite's
// parser refuses text nested deeper than 1,000 levels, its JSONB reader
// does not look.
func nestedJSONB(n int, value []byte) []byte {
	b := value
	for ; n > 0; n-- {
		payload := append([]byte{0x17, 'a'}, b...)
		switch sz := len(payload); {
		case sz <= 11:
			b = append([]byte{byte(sz<<4) | 0x0c}, payload...)
		case sz <= 0xff:
			b = append([]byte{0xcc, byte(sz)}, payload...)
		case sz <= 0xffff:
			b = append([]byte{0xdc, byte(sz >> 8), byte(sz)}, payload...)
		default:
			b = append([]byte{0xec, byte(sz >> 24), byte(sz >> 16), byte(sz >> 8), byte(sz)}, payload...)
		}
	}
	return b
}

// TestJSONPatch_matchesSQLite compares json_patch and jsonb_patch on
// Warden's connections with SQLite's own, through SQL, on the hand-written
// cases and on random pairs of documents: JSON and JSON5 text, JSONB,
// damaged JSONB, malformed text, NULLs and other types; each result by
// its type and bytes, and each error by its text.
func TestJSONPatch_matchesSQLite(t *testing.T) {
	raw, db := openRawSQLite(t), openMemory(t)
	r := rand.New(rand.NewPCG(7, 8))
	const random = 8000
	queries := jsonPatchQueries
	for _, depth := range []int{999, 1000, 1001, 1002} {
		deep, deepTarget := sqlLiteral(nestedJSONB(depth, []byte{0x13, '2'})), sqlLiteral(nestedJSONB(depth, []byte{0x13, '1'}))
		queries = append(queries, "SELECT json_patch('{}', "+deep+")", "SELECT json_patch("+deepTarget+", "+deep+")",
			"SELECT jsonb_patch("+deepTarget+", '{\"b\":1}')", "SELECT json_patch("+deep+", '{}')")
	}
	failed := 0
	for n := 0; n < len(queries)+random; n++ {
		q := ""
		if n < len(queries) {
			q = queries[n]
		} else {
			fn := []string{"json_patch", "jsonb_patch"}[n%2]
			q = fmt.Sprintf("SELECT %s(%s, %s)", fn, jsonPatchArg(r, raw), jsonPatchArg(r, raw))
			if n%7 == 0 { // the result as an argument: its subtype says it is JSON
				q = fmt.Sprintf("SELECT json_array(%s(%s, %s))", fn, jsonPatchArg(r, raw), jsonPatchArg(r, raw))
			}
		}
		if compareWithSQLite(t, raw, db, q) {
			failed++
		}
		if testing.Verbose() && n < len(queries) {
			v, err := raw.column(q, 0)
			t.Logf("%.80s: %.80s %v", q, v, err)
		}
	}
	t.Logf("%d queries, %d failed on both", len(queries)+random, failed)
}

// compareWithSQLite runs query q, of one result, on raw and db, and fails
// t unless both give the same type and bytes or the same error; it
// reports whether they failed.
func compareWithSQLite(t *testing.T, raw *rawSQLite, db *sql.DB, q string) bool {
	t.Helper()
	wrapped := "WITH x(v) AS MATERIALIZED (" + q + ") SELECT typeof(v) || ' ' || hex(v) FROM x"
	want, wantErr := raw.column(wrapped, 0)
	var got string
	gotErr := db.QueryRowContext(context.Background(), wrapped).Scan(&got)
	short := q
	if len(short) > 300 {
		short = short[:300] + "..."
	}
	switch {
	case wantErr != nil && gotErr == nil:
		t.Fatalf("%s: got %s, SQLite failed: %v", short, got, wantErr)
	case wantErr == nil && gotErr != nil:
		t.Fatalf("%s: failed (%v), SQLite gave %s", short, gotErr, want)
	case wantErr != nil && !strings.Contains(gotErr.Error(), wantErr.Error()):
		t.Fatalf("%s: failed with %v, SQLite with %v", short, gotErr, wantErr)
	case wantErr == nil && got != want:
		t.Fatalf("%s: got %.200s, SQLite %.200s", short, got, want)
	}
	return wantErr != nil
}

// TestJSONPatch_schema: Warden's json_patch and jsonb_patch serve where
// SQLite's do with trusted_schema off (innocuous, deterministic): a
// generated column, a CHECK, an index on an expression, which the planner
// uses as with SQLite's, and a view; with SQLite's rows.
func TestJSONPatch_schema(t *testing.T) {
	raw, db := openRawSQLite(t), openMemory(t)
	for _, q := range []string{
		"PRAGMA trusted_schema = OFF",
		`CREATE TABLE t(a TEXT, b TEXT GENERATED ALWAYS AS (json_patch(a, '{"g":1}')), CHECK (json_patch(a, '{}') IS NOT NULL))`,
		`CREATE INDEX ti ON t(json_patch(a, '{"x":null}'))`,
		`CREATE VIEW v AS SELECT jsonb_patch(a, '{"v":2}') AS p FROM t`,
		`INSERT INTO t(a) VALUES ('{"x":1,"y":2}'), ('{"z":3}')`,
	} {
		if _, err := raw.column(q, -1); err != nil {
			t.Fatalf("%s: SQLite: %v", q, err)
		}
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, q := range []string{
		"SELECT group_concat(b, ';') FROM t",
		"SELECT group_concat(hex(p), ';') FROM v",
		`SELECT count(*) FROM t WHERE json_patch(a, '{"x":null}') = '{"y":2}'`,
	} {
		compareWithSQLite(t, raw, db, q)
	}
	plan := `EXPLAIN QUERY PLAN SELECT a FROM t WHERE json_patch(a, '{"x":null}') = '{"y":2}'`
	var id, parent, notused int
	var detail string
	if err := db.QueryRowContext(context.Background(), plan).Scan(&id, &parent, &notused, &detail); err != nil {
		t.Fatal(err)
	}
	if want, err := raw.column(plan, 3); err != nil || detail != want || !strings.Contains(detail, "USING INDEX ti") {
		t.Errorf("plan %q, SQLite's %q (%v)", detail, want, err)
	}
}

// TestJSONPatch_flags: Warden's json_patch and jsonb_patch carry SQLite's
// user data and flags (but SQLITE_FUNC_BUILTIN).
func TestJSONPatch_flags(t *testing.T) {
	db := openMemory(t)
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Raw(func(dc any) error {
		_, h := driverConn(dc)
		found := 0
		for def := range connFuncs(h, jsonPatchGuardPtr) {
			found++
			own, err := sqliteFunc(libc.GoString(def.FzName)+"\x00", 2)
			if err != nil {
				return err
			}
			if def.FfuncFlags != own.FfuncFlags&^sqlite3.SQLITE_FUNC_BUILTIN || def.FpUserData != own.FpUserData || def.FnArg != own.FnArg {
				t.Errorf("%s: flags %#x, user data %#x, %d arguments; SQLite's %#x, %#x, %d", libc.GoString(def.FzName),
					def.FfuncFlags, def.FpUserData, def.FnArg, own.FfuncFlags, own.FpUserData, own.FnArg)
			}
		}
		if found != 2 {
			t.Errorf("found %d of Warden's json_patch functions, want 2", found)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// jsonPatchLarge is a large patch of an ordinary kind: 1,000 keys (a
// third new, a third changed, a third removed) into an object of 10,000.
const jsonPatchLarge = `WITH RECURSIVE n10000(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n10000 LIMIT 10000),
	n1000(value) AS (SELECT value FROM n10000 LIMIT 1000)
	SELECT json_patch(
	(SELECT json_group_object('key' || value, json_object('n', value, 's', 'some text')) FROM n10000),
	(SELECT json_group_object('key' || (value * 15), CASE value % 3 WHEN 0 THEN NULL WHEN 1 THEN value ELSE json_object('n', NULL, 'm', 1) END)
		FROM n1000))`

// openBounded opens a database with a memory bound, as a plugin's, closed
// at cleanup.
func openBounded(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), filepath.Join(tb.TempDir(), "p.db"), Options{MaxMemoryBytes: 64 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// TestJSONPatch_largeOrdinary: a large but ordinary patch gives SQLite's
// answer within a plugin statement's deadline.
func TestJSONPatch_largeOrdinary(t *testing.T) {
	raw := openRawSQLite(t)
	s := openBounded(t).NewSession()
	defer s.Close()
	q := "WITH x(v) AS MATERIALIZED (" + jsonPatchLarge + ") SELECT length(v), v FROM x"
	start := time.Now()
	want, err := raw.column(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SQLite's own: %v", time.Since(start).Round(time.Millisecond))
	noPatch := strings.Replace(q, "SELECT json_patch(", "SELECT coalesce(", 1)
	start = time.Now()
	if _, err := raw.column(noPatch, 1); err != nil {
		t.Fatal(err)
	}
	t.Logf("SQLite's own, the arguments alone: %v", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // the race detector makes it 10 s
	defer cancel()
	start = time.Now()
	rows, err := s.Query(ctx, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1,000 keys into 10,000: %v", time.Since(start).Round(time.Millisecond))
	if got := fmt.Sprint(rows.Values[0][1]); got != want {
		t.Errorf("got %.100s... (length %v), SQLite %.100s...", got, rows.Values[0][0], want)
	}
}

// BenchmarkJSONPatch patches 1,000 rows' objects of 100 keys with 5 keys
// (one new, two changed, one removed, one nested), in one run: on a
// connection opened through SQLite's C interface (sqlite), and on a plugin
// database's connection (bounded memory, through the driver) with SQLite's
// own function installed there as sqlite_json_patch (sqlite-plugin-conn)
// and with Warden's (warden).
func BenchmarkJSONPatch(b *testing.B) {
	raw := openRawSQLite(b)
	ctx := context.Background()
	conn, err := openBounded(b).writer.Conn(ctx) // a bounded database's connection, as a plugin's
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	own, err := sqliteFunc("json_patch\x00", 2)
	if err != nil {
		b.Fatal(err)
	}
	if err := conn.Raw(func(dc any) error {
		tls, h := driverConn(dc)
		name := cstr(tls, "sqlite_json_patch")
		defer libc.Xfree(tls, name)
		if rc := sqlite3.Xsqlite3_create_function_v2(tls, h, name, 2, sqlite3.SQLITE_UTF8|sqlite3.SQLITE_DETERMINISTIC|sqlite3.SQLITE_INNOCUOUS,
			own.FpUserData, own.FxSFunc, 0, 0, 0); rc != sqlite3.SQLITE_OK {
			return fmt.Errorf("install SQLite's json_patch: %d", rc)
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	fill := `CREATE TABLE t AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 1000)
		SELECT (SELECT json_group_object('key' || i, i * 7) FROM n AS k WHERE k.i <= 100) || '' AS doc FROM n`
	if _, err := conn.ExecContext(ctx, fill); err != nil {
		b.Fatal(err)
	}
	if _, err := raw.column(fill, -1); err != nil {
		b.Fatal(err)
	}
	q := `SELECT sum(length(json_patch(doc, '{"key5":1,"key50":"x","key99":null,"new":[1,2],"key7":{"a":1}}'))) FROM t`
	want, err := raw.column(q, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sqlite", func(b *testing.B) {
		for b.Loop() {
			if _, err := raw.column(q, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct{ name, q string }{
		{"sqlite-plugin-conn", strings.Replace(q, "json_patch(", "sqlite_json_patch(", 1)},
		{"warden", q},
	} {
		b.Run(c.name, func(b *testing.B) {
			var got string
			for b.Loop() {
				if err := conn.QueryRowContext(ctx, c.q).Scan(&got); err != nil {
					b.Fatal(err)
				}
			}
			if got != want {
				b.Fatalf("got %s, SQLite %s", got, want)
			}
		})
	}
}

// TestJSONPatch_keyBounds: the guard's bound of a document's keys by
// depth (jsonKeys) is never under the keys SQLite finds there (json_tree),
// for JSON and JSON5 text, JSONB, and text as a BLOB, on random
// documents.
func TestJSONPatch_keyBounds(t *testing.T) {
	raw := openRawSQLite(t)
	r := rand.New(rand.NewPCG(9, 10))
	const depths = `WITH RECURSIVE n AS (SELECT * FROM json_tree(%s)),
		d(id, depth) AS (SELECT id, 0 FROM n WHERE parent IS NULL UNION ALL SELECT n.id, d.depth + 1 FROM n JOIN d ON n.parent = d.id)
		SELECT group_concat(depth || ':' || c, ' ') FROM (SELECT min(depth, %d) AS depth, count(*) AS c FROM n JOIN d USING (id) WHERE typeof(n.key) = 'text' GROUP BY 1)`
	for i := 0; i < 400; i++ {
		doc := randomJSON(r, 5, i%2 == 0)
		h, err := raw.column("SELECT hex(jsonb("+sqlLiteral(doc)+"))", 0)
		if err != nil {
			continue // not JSON SQLite reads
		}
		b, _ := hex.DecodeString(h)
		counts, err := raw.column(fmt.Sprintf(depths, sqlLiteral(doc), jsonDepths-1), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, dc := range strings.Fields(strings.ReplaceAll(counts, "NULL", "")) {
			var d int
			var c int64
			fmt.Sscanf(dc, "%d:%d", &d, &c)
			for name, k := range map[string]jsonKeyCounts{
				"text": jsonKeys(sqlite3.SQLITE_TEXT, doc), "JSONB": jsonKeys(sqlite3.SQLITE_BLOB, string(b)),
				"text as a BLOB": jsonKeys(sqlite3.SQLITE_BLOB, doc),
			} {
				if k.at(d) < c {
					t.Fatalf("%s %q: %d keys at depth %d, bound %d", name, doc, c, d, k.at(d))
				}
			}
		}
	}
}
