package storage

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
)

// oldLayout is a warden.db as the layout before one database per plugin
// made it: Warden's tables beside the bundled kv plugin's (its real DDL),
// with an index, a trigger, an AUTOINCREMENT log, a view, rows of every
// type, a table of a plugin whose name extends kv's, and a table no plugin
// owns.
const oldLayout = `
CREATE TABLE warden_users (id TEXT PRIMARY KEY, username TEXT);
INSERT INTO warden_users VALUES ('u1', 'alice');
CREATE TABLE kv_entries (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner, name)
);
CREATE TABLE kv_counters (owner TEXT NOT NULL, name TEXT NOT NULL, value BIGINT NOT NULL, PRIMARY KEY (owner, name));
CREATE INDEX kv_entries_updated ON kv_entries (updated_at);
CREATE TABLE kv_log (id INTEGER PRIMARY KEY AUTOINCREMENT, msg TEXT);
CREATE TRIGGER kv_entries_log AFTER INSERT ON kv_entries BEGIN INSERT INTO kv_log (msg) VALUES (new.name); END;
INSERT INTO kv_entries VALUES ('', 'k', 'v', 1700000000000), ('u1', 'a', 'b', 1700000000001);
INSERT INTO kv_counters VALUES ('', 'c', 42);
DELETE FROM kv_log WHERE id = 2;
CREATE VIEW kv_recent AS SELECT name FROM kv_entries WHERE updated_at > 0;
CREATE TABLE kv_types (a, b INTEGER, c TEXT, d REAL, e BLOB);
INSERT INTO kv_types (rowid, a, b, c, d, e) VALUES
    (10, 1, 'not a number', '7', 1.5, x'00ff'),
    (20, 2.25, 9223372036854775807, NULL, 3, 'text in a blob column'),
    (30, x'cafe', NULL, 'é', -0.0, NULL);
CREATE TABLE kv_extra_things (id TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID;
INSERT INTO kv_extra_things VALUES ('x', 1), ('y', 2);
CREATE TABLE legacy_stuff (a);
INSERT INTO legacy_stuff VALUES (1);
CREATE TABLE echo_t (a);
INSERT INTO echo_t VALUES ('from warden.db');
`

// dump returns every row of table, with its rowid unless it has none, as
// Go values (int64, float64, string, []byte, nil), for an exact comparison.
func dump(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query("SELECT rowid, * FROM " + quote(table) + " ORDER BY 1")
	if err != nil {
		rows, err = db.Query("SELECT * FROM " + quote(table) + " ORDER BY 1") // WITHOUT ROWID
	}
	if err != nil {
		t.Fatalf("dump %s: %v", table, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%#v", vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// objects returns the names of the schema objects of db.
func objects(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query("SELECT name, type FROM sqlite_schema WHERE name NOT LIKE 'sqlite%'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var n, k string
		if err := rows.Scan(&n, &k); err != nil {
			t.Fatal(err)
		}
		m[n] = k
	}
	return m
}

func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// oldData opens a warden.db made with script, and a Dir beside it, in a
// fresh data directory.
func oldData(t *testing.T, script string) (*DB, *Dir) {
	t.Helper()
	data := t.TempDir()
	from, err := Open(context.Background(), filepath.Join(data, "warden.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = from.Close() })
	if _, err := from.Writer().Exec(script); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(filepath.Join(data, "db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return from, d
}

func TestDir_MoveTables(t *testing.T) {
	ctx := context.Background()
	from, d := oldData(t, oldLayout)
	w := openRaw(t, from.Path())
	moved := []string{"kv_entries", "kv_counters", "kv_log", "kv_types", "kv_extra_things"}
	before := map[string][]string{}
	for _, tb := range moved {
		before[tb] = dump(t, w, tb)
	}
	echoPath, _ := d.Path("echo")
	echo := openRaw(t, echoPath)
	if _, err := echo.Exec("CREATE TABLE echo_t (a); INSERT INTO echo_t VALUES ('already in echo.db')"); err != nil {
		t.Fatal(err)
	}
	plugins := []string{"echo", "kv", "kv_extra", "seed", "bad name"}

	rep, err := d.MoveTables(ctx, from, plugins)
	if err != nil {
		t.Fatal(err)
	}
	wantMoved := []MovedTable{{"kv_counters", "kv"}, {"kv_entries", "kv"}, {"kv_extra_things", "kv_extra"},
		{"kv_log", "kv"}, {"kv_types", "kv"}, {"kv_recent", "kv"}}
	wantKept := []KeptTable{{"echo_t", "echo", keptConflict}, {"legacy_stuff", "", keptUnowned}}
	if !reflect.DeepEqual(rep.Moved, wantMoved) || !reflect.DeepEqual(rep.Kept, wantKept) {
		t.Fatalf("report = %+v\nwant moved %+v, kept %+v", rep, wantMoved, wantKept)
	}
	kvPath, _ := d.Path("kv")
	kv := openRaw(t, kvPath)
	extraPath, _ := d.Path("kv_extra")
	extra := openRaw(t, extraPath)
	for _, tb := range moved {
		db := kv
		if tb == "kv_extra_things" {
			db = extra
		}
		if got := dump(t, db, tb); !reflect.DeepEqual(got, before[tb]) {
			t.Errorf("%s after the move:\n%v\nwant\n%v", tb, got, before[tb])
		}
	}
	t.Run("types", func(t *testing.T) {
		var got string
		err := kv.QueryRow(`SELECT group_concat(rowid || ':' || typeof(a) || typeof(b) || typeof(c) || typeof(d) || typeof(e), ' ')
FROM kv_types`).Scan(&got)
		want := "10:integertexttextrealblob 20:realintegernullrealtext 30:blobnulltextrealnull"
		if err != nil || got != want {
			t.Fatalf("types = %q, %v; want %q", got, err, want)
		}
	})
	t.Run("schema", func(t *testing.T) {
		got := objects(t, kv)
		want := map[string]string{"kv_entries": "table", "kv_counters": "table", "kv_log": "table", "kv_types": "table",
			"kv_entries_updated": "index", "kv_entries_log": "trigger", "kv_recent": "view"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("kv.db objects = %v, want %v", got, want)
		}
		left := objects(t, w)
		wantLeft := map[string]string{"warden_users": "table", "legacy_stuff": "table", "echo_t": "table"}
		if !reflect.DeepEqual(left, wantLeft) {
			t.Fatalf("warden.db objects = %v, want %v", left, wantLeft)
		}
		if got := dump(t, echo, "echo_t"); len(got) != 1 || got[0] != `[]interface {}{1, "already in echo.db"}` {
			t.Fatalf("echo.db's echo_t was overwritten: %v", got)
		}
	})
	t.Run("triggerAndSequence", func(t *testing.T) {
		if _, err := kv.Exec("INSERT INTO kv_entries VALUES ('', 'new', 'v', 0)"); err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := kv.QueryRow("SELECT max(id) FROM kv_log").Scan(&id); err != nil || id != 3 {
			t.Fatalf("the trigger logged id %d, %v; want 3 (AUTOINCREMENT goes on after 2)", id, err)
		}
	})
	t.Run("again", func(t *testing.T) {
		rep, err := d.MoveTables(ctx, from, plugins)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Moved) != 0 || !reflect.DeepEqual(rep.Kept, wantKept) {
			t.Fatalf("second run = %+v, want nothing moved and the same kept", rep)
		}
	})
}

// TestDir_MoveTables_interrupted checks a move interrupted after its copy
// committed and before the drop: the table is in both files with the same
// content, and the next run only drops it; with other content, it is a
// conflict and both stay.
func TestDir_MoveTables_interrupted(t *testing.T) {
	ctx := context.Background()
	const table = "CREATE TABLE kv_half (a, b); INSERT INTO kv_half VALUES (1, 'x'), (2, x'00');"
	from, d := oldData(t, table+"CREATE TABLE kv_diff (a); INSERT INTO kv_diff VALUES (1);")
	kvPath, _ := d.Path("kv")
	kv := openRaw(t, kvPath)
	if _, err := kv.Exec(table + "CREATE TABLE kv_diff (a); INSERT INTO kv_diff VALUES ('1');"); err != nil {
		t.Fatal(err)
	}
	rep, err := d.MoveTables(ctx, from, []string{"kv"})
	if err != nil {
		t.Fatal(err)
	}
	wantMoved := []MovedTable{{"kv_half", "kv"}}
	wantKept := []KeptTable{{"kv_diff", "kv", keptConflict}}
	if !reflect.DeepEqual(rep.Moved, wantMoved) || !reflect.DeepEqual(rep.Kept, wantKept) {
		t.Fatalf("report = %+v, want moved %+v, kept %+v", rep, wantMoved, wantKept)
	}
	if got := objects(t, openRaw(t, from.Path())); !reflect.DeepEqual(got, map[string]string{"kv_diff": "table"}) {
		t.Fatalf("warden.db objects = %v, want only kv_diff", got)
	}
	if got := dump(t, kv, "kv_half"); len(got) != 2 {
		t.Fatalf("kv_half in kv.db = %v, want its 2 rows once", got)
	}
}

// TestDir_MoveTables_exactCase checks that a table goes to the plugin whose
// name matches its prefix exactly, before one that matches only ignoring
// case: with plugins A and a, a_* is a's and A_* is A's; a table that only
// one of them matches ignoring case still goes to it.
func TestDir_MoveTables_exactCase(t *testing.T) {
	ctx := context.Background()
	from, d := oldData(t, `CREATE TABLE a_lower (x); INSERT INTO a_lower VALUES ('lower');
CREATE TABLE A_upper (x); INSERT INTO A_upper VALUES ('upper');
CREATE TABLE B_mixed (x); INSERT INTO B_mixed VALUES ('mixed');`)
	rep, err := d.MoveTables(ctx, from, []string{"A", "a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	wantMoved := []MovedTable{{"A_upper", "A"}, {"B_mixed", "b"}, {"a_lower", "a"}}
	if !reflect.DeepEqual(rep.Moved, wantMoved) || len(rep.Kept) != 0 {
		t.Fatalf("report = %+v, want moved %+v and nothing kept", rep, wantMoved)
	}
	for plugin, table := range map[string]string{"a": "a_lower", "A": "A_upper", "b": "B_mixed"} {
		path, _ := d.Path(plugin)
		if got := objects(t, openRaw(t, path)); !reflect.DeepEqual(got, map[string]string{table: "table"}) {
			t.Errorf("%s.db objects = %v, want only %s", plugin, got, table)
		}
	}
}
