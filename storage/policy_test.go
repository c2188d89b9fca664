package storage_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/warden-rpc/warden/storage"
)

// errSQL in a test table stands for "any *storage.SQLError".
var errSQL = errors.New("*storage.SQLError")

// checkErr fails t unless err matches want: nil, errSQL or a sentinel.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	var sqlErr *storage.SQLError
	switch {
	case want == nil && err != nil:
		t.Errorf("got %v, want success", err)
	case errors.Is(want, errSQL) && !errors.As(err, &sqlErr):
		t.Errorf("got %v, want *SQLError", err)
	case want != nil && !errors.Is(want, errSQL) && !errors.Is(err, want):
		t.Errorf("got %v, want %v", err, want)
	}
}

// policyDB opens a database with a Warden table, plugin tables t and log,
// and a trigger and a view that reach into the Warden table. Creating those
// is allowed; running them is not.
func policyDB(t *testing.T) *storage.DB {
	t.Helper()
	db := openDB(t, storage.Options{})
	m := []storage.Migration{{Version: 1, Name: "kv", SQL: "CREATE TABLE warden_kv(k, v)"}}
	if err := db.Migrate(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE t(a)")
	mustExec(t, s, "CREATE TABLE log(a)")
	mustExec(t, s, "CREATE TRIGGER t_bad AFTER UPDATE ON log BEGIN DELETE FROM warden_kv; END")
	mustExec(t, s, "CREATE VIEW v_bad AS SELECT * FROM warden_kv")
	// sqlite_stat1 and sqlite_stat4, as ANALYZE creates them.
	if _, err := db.Writer().ExecContext(context.Background(), "ANALYZE t"); err != nil {
		t.Fatal(err)
	}
	return db
}

// policyTests are run through both Exec and Query by TestSession_Policy.
var policyTests = []struct {
	name  string
	query string
	want  error // nil means allowed
}{
	{name: "Attach", query: "ATTACH 'other.db' AS other", want: storage.ErrNotAllowed},
	{name: "Detach", query: "DETACH main", want: storage.ErrNotAllowed},
	{name: "PragmaJournalMode", query: "PRAGMA journal_mode=DELETE", want: storage.ErrNotAllowed},
	{name: "PragmaSynchronous", query: "PRAGMA synchronous=OFF", want: storage.ErrNotAllowed},
	{name: "PragmaQueryOnly", query: "PRAGMA query_only=0", want: storage.ErrNotAllowed},
	{name: "PragmaRead", query: "PRAGMA user_version", want: storage.ErrNotAllowed},
	{name: "PragmaFunction", query: "SELECT * FROM pragma_table_info('t')", want: storage.ErrNotAllowed},
	{name: "PragmaFunctionDatabaseList", query: "SELECT file FROM pragma_database_list", want: storage.ErrNotAllowed},
	{name: "PragmaFunctionSetting", query: "SELECT * FROM pragma_foreign_keys", want: storage.ErrNotAllowed},
	{name: "LoadExtension", query: "SELECT load_extension('x')", want: storage.ErrNotAllowed},
	{name: "GeopolyOverlap", query: "SELECT geopoly_overlap(X'00', X'00')", want: storage.ErrNotAllowed},
	{name: "GeopolyWithinUpperCase", query: "SELECT GEOPOLY_WITHIN(X'00', X'00')", want: storage.ErrNotAllowed},
	{name: "GeopolyArea", query: "SELECT geopoly_area(geopoly_blob('[[0,0],[1,0],[1,1],[0,0]]'))"},
	{name: "Vacuum", query: "VACUUM", want: storage.ErrNotAllowed},
	{name: "VacuumInto", query: "VACUUM INTO 'copy.db'", want: storage.ErrNotAllowed},
	{name: "SelectWarden", query: "SELECT * FROM warden_schema_migrations", want: storage.ErrNotAllowed},
	{name: "CountWardenUpperCase", query: "SELECT count(*) FROM WARDEN_KV", want: storage.ErrNotAllowed},
	{name: "SubqueryWarden", query: "SELECT (SELECT count(*) FROM warden_kv)", want: storage.ErrNotAllowed},
	{name: "InsertWarden", query: "INSERT INTO warden_kv VALUES (1, 2)", want: storage.ErrNotAllowed},
	{name: "DropWarden", query: "DROP TABLE warden_kv", want: storage.ErrNotAllowed},
	{name: "CreateWarden", query: `CREATE TABLE "warden_new"(a)`, want: storage.ErrNotAllowed},
	{name: "IndexOnWarden", query: "CREATE INDEX i ON warden_kv(k)", want: storage.ErrNotAllowed},
	{name: "TriggerOnWarden", query: "CREATE TRIGGER x AFTER INSERT ON warden_kv BEGIN SELECT 1; END", want: storage.ErrNotAllowed},
	{name: "TriggerBodyFires", query: "UPDATE log SET a = 1", want: storage.ErrNotAllowed},
	{name: "ViewOverWarden", query: "SELECT * FROM v_bad", want: storage.ErrNotAllowed},
	{name: "RenameToWarden", query: "ALTER TABLE t RENAME TO warden_t", want: storage.ErrNotAllowed},
	{name: "RenameToWardenQuoted", query: "ALTER TABLE t RENAME TO 'Warden_T'", want: storage.ErrNotAllowed},
	{name: "RenameWarden", query: "ALTER TABLE warden_kv RENAME TO mine", want: storage.ErrNotAllowed},
	{name: "TempTable", query: "CREATE TEMP TABLE x(a)", want: storage.ErrNotAllowed},
	{name: "Begin", query: "BEGIN", want: storage.ErrNotAllowed},
	{name: "BeginImmediate", query: "BEGIN IMMEDIATE", want: storage.ErrNotAllowed},
	{name: "Commit", query: "COMMIT", want: storage.ErrNotAllowed},
	{name: "End", query: "END", want: storage.ErrNotAllowed},
	{name: "Rollback", query: "ROLLBACK", want: storage.ErrNotAllowed},
	{name: "Savepoint", query: "SAVEPOINT a", want: storage.ErrNotAllowed},
	{name: "Release", query: "RELEASE a", want: storage.ErrNotAllowed},
	// SQLite's own tables and virtual tables: raw pages, page statistics,
	// the planner's statistics, the schema.
	{name: "DBPageRead", query: "SELECT pgno, data FROM sqlite_dbpage", want: storage.ErrNotAllowed},
	{name: "DBPageCount", query: "SELECT count(*) FROM sqlite_dbpage", want: storage.ErrNotAllowed},
	{name: "DBPageFunction", query: "SELECT * FROM sqlite_dbpage('main')", want: storage.ErrNotAllowed},
	{name: "DBPageWrite", query: "UPDATE sqlite_dbpage SET data = data WHERE pgno = 1", want: storage.ErrNotAllowed},
	{name: "DBPageInsert", query: "INSERT INTO sqlite_dbpage VALUES (1, zeroblob(4096))", want: storage.ErrNotAllowed},
	{name: "DBStat", query: "SELECT name, pgoffset FROM dbstat", want: storage.ErrNotAllowed},
	{name: "DBStatCount", query: "SELECT count(*) FROM dbstat('main')", want: storage.ErrNotAllowed},
	{name: "Stat1Read", query: "SELECT * FROM sqlite_stat1", want: storage.ErrNotAllowed},
	{name: "Stat1Insert", query: "INSERT INTO sqlite_stat1 VALUES ('warden_kv', NULL, '1000000')", want: storage.ErrNotAllowed},
	{name: "Stat1Update", query: "UPDATE sqlite_stat1 SET stat = '1'", want: storage.ErrNotAllowed},
	{name: "Stat1Delete", query: "DELETE FROM sqlite_stat1", want: storage.ErrNotAllowed},
	{name: "Stat4Read", query: "SELECT count(*) FROM sqlite_stat4", want: storage.ErrNotAllowed},
	{name: "AnalyzeOwn", query: "ANALYZE t"},
	{name: "SchemaRead", query: "SELECT name, sql FROM sqlite_schema WHERE type = 'table'"},
	{name: "SchemaInsert", query: "INSERT INTO sqlite_master VALUES ('table', 'x', 'x', 0, 'CREATE TABLE x(a)')", want: errSQL},
	{name: "SchemaUpdate", query: "UPDATE sqlite_schema SET sql = 'CREATE TABLE t(a, b)' WHERE name = 't'", want: errSQL},
	{name: "SchemaDelete", query: "DELETE FROM sqlite_master WHERE name = 't'", want: errSQL},
	// Virtual table modules: fts5 only.
	{name: "VTableFTS5", query: "CREATE VIRTUAL TABLE ft USING fts5(a)"},
	{name: "VTableRTree", query: "CREATE VIRTUAL TABLE rt USING rtree(id, x0, x1)", want: storage.ErrNotAllowed},
	{name: "VTableGeopoly", query: "CREATE VIRTUAL TABLE gp USING geopoly(a)", want: storage.ErrNotAllowed},
	{name: "VTableDBStat", query: "CREATE VIRTUAL TABLE st USING dbstat(main)", want: storage.ErrNotAllowed},
	{name: "VTableDBPage", query: "CREATE VIRTUAL TABLE pg USING sqlite_dbpage", want: storage.ErrNotAllowed},
	{name: "JSONEach", query: "SELECT value FROM json_each('[1, 2]')"},
	// Nothing outside "main", however the temp database is named.
	{name: "TempTableQualified", query: "CREATE TABLE temp.t(a)", want: storage.ErrNotAllowed},
	{name: "TempTableQuoted", query: `CREATE TABLE "TEMP".t(a)`, want: storage.ErrNotAllowed},
	{name: "TempTableAs", query: "CREATE TABLE temp.copy AS SELECT * FROM t", want: storage.ErrNotAllowed},
	{name: "TempView", query: "CREATE VIEW temp.t AS SELECT 1 AS a", want: storage.ErrNotAllowed},
	{name: "TempTrigger", query: "CREATE TRIGGER temp.tr AFTER INSERT ON main.t BEGIN SELECT 1; END", want: storage.ErrNotAllowed},
	{name: "TempVTable", query: "CREATE VIRTUAL TABLE temp.ft USING fts5(a)", want: storage.ErrNotAllowed},
	{name: "TempSchemaRead", query: "SELECT * FROM temp.sqlite_master", want: storage.ErrNotAllowed},
	{name: "TempSchemaCount", query: "SELECT count(*) FROM sqlite_temp_master", want: storage.ErrNotAllowed},
	{name: "MainQualified", query: "SELECT count(*) FROM main.t"},
	{name: "MultiStatement", query: "SELECT 1; SELECT 2", want: errSQL},
	{name: "MultiStatementDrop", query: "INSERT INTO t VALUES (1); DROP TABLE t", want: errSQL},
	{name: "Empty", query: " -- nothing", want: errSQL},
	{name: "TrailingSemicolon", query: "SELECT count(*) FROM t; -- done"},
	{name: "ColumnNamedWarden", query: "SELECT a AS warden_a FROM t"},
	{name: "RenameColumnToWarden", query: "ALTER TABLE log RENAME COLUMN a TO warden_a"},
	{name: "RenameTable", query: "ALTER TABLE log RENAME TO journal"},
	{name: "AddColumn", query: "ALTER TABLE log ADD COLUMN b DEFAULT 0"},
	{name: "DropAnalyzedTable", query: "DROP TABLE t"},
	{name: "TriggerWithBody", query: "CREATE TRIGGER ok AFTER INSERT ON t BEGIN INSERT INTO log VALUES (1); INSERT INTO log VALUES (2); END;"},
	{name: "DropTrigger", query: "DROP TRIGGER IF EXISTS ok"},
}

func TestSession_Policy(t *testing.T) {
	ctx := context.Background()
	for _, tt := range policyTests {
		for _, method := range []string{"Exec", "Query"} {
			t.Run(tt.name+"/"+method, func(t *testing.T) {
				db := policyDB(t)
				s := session(t, db)
				var err error
				if method == "Exec" {
					_, err = s.Exec(ctx, tt.query, nil)
				} else {
					_, err = s.Query(ctx, tt.query, nil)
				}
				checkErr(t, err, tt.want)
				if tt.want == nil {
					return
				}
				var n int
				err = db.Writer().QueryRowContext(ctx, "SELECT (SELECT count(*) FROM t) + (SELECT count(*) FROM warden_kv)").Scan(&n)
				if err != nil || n != 0 {
					t.Errorf("refused statement had effects: %d rows, %v", n, err)
				}
			})
		}
	}
	t.Run("InTxMarksFailed", func(t *testing.T) {
		s := session(t, policyDB(t))
		if err := s.Begin(ctx, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Exec(ctx, "PRAGMA foreign_keys=OFF", nil); !errors.Is(err, storage.ErrNotAllowed) {
			t.Fatalf("got %v, want ErrNotAllowed", err)
		}
		if err := s.Commit(ctx); !errors.Is(err, storage.ErrTxFailed) {
			t.Errorf("Commit: got %v, want ErrTxFailed", err)
		}
	})
}

// TestSession_PolicyDBPage replays the raw-page attack: a plugin reads the
// page holding another table's row from sqlite_dbpage and writes it back
// changed. Both are refused, and the row is unchanged.
func TestSession_PolicyDBPage(t *testing.T) {
	ctx := context.Background()
	db := policyDB(t)
	if _, err := db.Writer().ExecContext(ctx, "INSERT INTO warden_kv VALUES ('user', 'alice')"); err != nil {
		t.Fatal(err)
	}
	s := session(t, db)
	if _, err := s.Query(ctx, "SELECT pgno, data FROM sqlite_dbpage", nil); !errors.Is(err, storage.ErrNotAllowed) {
		t.Errorf("reading pages: got %v, want ErrNotAllowed", err)
	}
	// The attacker knows the page: read it here as Warden.
	var pgno int64
	var page []byte
	err := db.Writer().QueryRowContext(ctx, "SELECT pgno, data FROM sqlite_dbpage WHERE instr(data, 'alice') > 0").Scan(&pgno, &page)
	if err != nil {
		t.Fatal(err)
	}
	page = bytes.Replace(page, []byte("alice"), []byte("mallo"), 1)
	if _, err := s.Exec(ctx, "UPDATE sqlite_dbpage SET data = ? WHERE pgno = ?", []any{page, pgno}); !errors.Is(err, storage.ErrNotAllowed) {
		t.Errorf("writing a page: got %v, want ErrNotAllowed", err)
	}
	var v string
	if err := db.Writer().QueryRowContext(ctx, "SELECT v FROM warden_kv WHERE k = 'user'").Scan(&v); err != nil || v != "alice" {
		t.Errorf("the row is %q, %v after the attack, want alice", v, err)
	}
}

// TestSession_PolicyFTS5 uses the one virtual table module the policy
// allows: an fts5 table can be filled and searched, while one whose
// external content is a table the policy refuses still cannot be read.
func TestSession_PolicyFTS5(t *testing.T) {
	ctx := context.Background()
	s := session(t, policyDB(t))
	mustExec(t, s, "CREATE VIRTUAL TABLE docs USING fts5(body)")
	mustExec(t, s, "INSERT INTO docs(body) VALUES ('the quick brown fox'), ('lazy dogs')")
	rows := mustQuery(t, s, "SELECT body FROM docs WHERE docs MATCH 'quick'")
	if len(rows.Values) != 1 || rows.Values[0][0] != "the quick brown fox" {
		t.Errorf("MATCH 'quick' = %v, want the one row", rows.Values)
	}
	mustExec(t, s, "INSERT INTO docs(docs) VALUES ('optimize')")
	for _, content := range []string{"warden_kv", "sqlite_dbpage", "sqlite_stat1"} {
		mustExec(t, s, "CREATE VIRTUAL TABLE ext_"+content+" USING fts5(k, content='"+content+"')")
		if _, err := s.Query(ctx, "SELECT * FROM ext_"+content, nil); !errors.Is(err, storage.ErrNotAllowed) {
			t.Errorf("fts5 over %s: got %v, want ErrNotAllowed", content, err)
		}
	}
}
