package pg

import (
	"errors"
	"testing"

	"github.com/warden-rpc/warden/storage"
)

// TestCheckPolicy runs the statement policy alone, without a server.
func TestCheckPolicy(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  error // nil, storage.ErrNotAllowed, or errSQL
	}{
		{"select", "SELECT * FROM t WHERE id = $1", nil},
		{"trailing semicolon and comment", "SELECT 1; -- done", nil},
		{"lower case", "insert into t values ($1)", nil},
		{"upsert", "INSERT INTO t (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v", nil},
		{"create table", "CREATE TABLE IF NOT EXISTS t (id BIGINT PRIMARY KEY, v BLOB)", nil},
		{"create unique index", "CREATE UNIQUE INDEX IF NOT EXISTS i ON t (v)", nil},
		{"or replace view", "CREATE OR REPLACE VIEW v AS SELECT 1", nil},
		{"strings hide words", `SELECT 'RESET ROLE; set_config(', $$SET ROLE x$$, $a$ $$ $a$, E'\'set_config('`, nil},
		{"column named like a function", "SELECT set_config FROM t", nil},
		{"nested comment", "SELECT /* a /* set_config( */ still comment */ 1", nil},
		{"temp as a column", "SELECT temp FROM t", nil},
		{"quoted identifier", `SELECT "SET ROLE" FROM t`, nil},
		{"empty", "  -- nothing\n", errSQL},
		{"two statements", "SELECT 1; SELECT 2", errSQL},
		{"unterminated string", "SELECT 'abc", errSQL},
		{"unterminated dollar", "SELECT $x$abc", errSQL},
		{"unterminated comment", "SELECT 1 /* x", errSQL},
		{"set", "SET ROLE postgres", storage.ErrNotAllowed},
		{"reset in comment prefix", "/* x */ RESET ROLE", storage.ErrNotAllowed},
		{"paren start", "(SELECT 1)", storage.ErrNotAllowed},
		{"create function", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", storage.ErrNotAllowed},
		{"create or replace function", "CREATE OR REPLACE FUNCTION f()", storage.ErrNotAllowed},
		{"create temp", "CREATE TEMP TABLE x (i BIGINT)", storage.ErrNotAllowed},
		{"create schema", "CREATE SCHEMA s", storage.ErrNotAllowed},
		{"alter role", "ALTER ROLE r SUPERUSER", storage.ErrNotAllowed},
		{"drop schema", "DROP SCHEMA plugin_x CASCADE", storage.ErrNotAllowed},
		{"into temp", "SELECT 1 INTO TEMPORARY x", storage.ErrNotAllowed},
		{"pg_temp", "SELECT * FROM pg_temp.x", storage.ErrNotAllowed},
		{"set_config", "SELECT set_config('role', 'postgres', false)", storage.ErrNotAllowed},
		{"quoted set_config", `SELECT pg_catalog."set_config"('role', 'x', false)`, storage.ErrNotAllowed},
		{"comment before paren", "SELECT set_config/**/('role', 'x', false)", storage.ErrNotAllowed},
		{"escape string then call", `SELECT E'\\', set_config('role', 'x', false)`, storage.ErrNotAllowed},
		{"unicode escape", `SELECT U&"\0073et_config"('role', 'x', false)`, storage.ErrNotAllowed},
		{"advisory lock", "SELECT pg_advisory_lock(1)", storage.ErrNotAllowed},
		{"large object", "SELECT lo_unlink(1)", storage.ErrNotAllowed},
		// A logical message is WAL that a rollback does not take back.
		{"logical message", "SELECT pg_logical_emit_message(false, 'p', 'x')", storage.ErrNotAllowed},
		{"qualified logical message", `SELECT "pg_catalog".pg_logical_emit_message(true, 'p', 'x'::bytea)`, storage.ErrNotAllowed},
		{"logical slot", "SELECT * FROM pg_logical_slot_get_changes('s', NULL, NULL)", storage.ErrNotAllowed},
		{"query_to_xml", "SELECT query_to_xml('SELECT 1', true, true, '')", storage.ErrNotAllowed},
		// PostgreSQL ends a -- comment at a carriage return as at a newline.
		{"line comment ends at CR", "-- x\rRESET ROLE /*\nSELECT 1 */", storage.ErrNotAllowed},
		{"call after CR", "SELECT 1 --\r, set_config('role', 'x', false)", storage.ErrNotAllowed},
		{"comment to CRLF", "SELECT 1 -- set_config(\r\n", nil},
		// A string continued after a newline keeps the escape string's
		// backslashes: \' escapes the quote, so the call is code.
		{"escape string continued", "SELECT E''\n'\\'', pg_advisory_lock(1) --'", storage.ErrNotAllowed},
		{"escape string continued after comment", "SELECT E'' -- c\n  \r'\\'', pg_advisory_lock(1) --'", storage.ErrNotAllowed},
		{"continued twice", "SELECT E'a'\n'b'\n'\\'', pg_advisory_lock(1) --'", storage.ErrNotAllowed},
		{"no continuation on one line", `SELECT E'' '\'', pg_advisory_lock(1) --'`, nil},
		{"block comment ends the string", "SELECT E'' /* */\n'\\'', pg_advisory_lock(1) --'", nil},
		{"standard string continued", "SELECT 'a'\n'\\'', pg_advisory_lock(1) --'", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkPolicy(tt.query)
			var sqlErr *storage.SQLError
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("%s: %v, want allowed", tt.query, err)
			case tt.want == errSQL && !errors.As(err, &sqlErr):
				t.Errorf("%s: %v, want *SQLError", tt.query, err)
			case tt.want != nil && tt.want != errSQL && !errors.Is(err, tt.want):
				t.Errorf("%s: %v, want %v", tt.query, err, tt.want)
			}
		})
	}
}

// errSQL stands for a *storage.SQLError in TestCheckPolicy.
var errSQL = errors.New("an *SQLError")

// FuzzCheckPolicy: the tokenizer never panics nor loops, whatever the
// quoting.
func FuzzCheckPolicy(f *testing.F) {
	for _, s := range []string{"SELECT 1", "SELECT 'a''b'; x", "SELECT $a$;$a$", "/* /* */ */ SELECT E'\\';'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		_, _ = checkPolicy(q)
	})
}

// TestCheckPolicy_ddl: which statements the policy takes for changes of
// the schema, which take the plugin's DDL lock and mark the relations
// they create (see mark.go): CREATE, DROP and ALTER, and SELECT INTO,
// which creates a table.
func TestCheckPolicy_ddl(t *testing.T) {
	for _, c := range []struct {
		name, query string
		want        bool
	}{
		{"create", "CREATE TABLE IF NOT EXISTS t (k BIGINT)", true},
		{"drop", "DROP TABLE t", true},
		{"alter", "ALTER TABLE t ADD COLUMN s BIGSERIAL", true},
		{"select into", "SELECT * INTO u FROM t", true},
		{"with select into", "WITH d AS (SELECT 1 AS k) SELECT * INTO u FROM d", true},
		{"insert", "INSERT INTO t VALUES (1)", false},
		{"with insert", "WITH d AS (DELETE FROM t RETURNING *) INSERT INTO u SELECT * FROM d", false},
		{"select", "SELECT 'INTO', \"into\" FROM t", false},
		{"update", "UPDATE t SET k = 2", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ddl, err := checkPolicy(c.query)
			if err != nil || ddl != c.want {
				t.Errorf("%s: ddl %v, %v; want %v", c.query, ddl, err, c.want)
			}
		})
	}
}
