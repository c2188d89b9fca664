package pg_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
)

// victim sets up plugin "victim" with a table secret of one row, and
// returns a session of plugin "attacker" that has a table of its own.
func victim(t *testing.T) (*pg.DB, string, storage.PluginSession) {
	t.Helper()
	db, dbURL := open(t, pg.Options{})
	v := session(t, db, "victim")
	mustExec(t, v, "CREATE TABLE secret (id BIGINT PRIMARY KEY, v TEXT)")
	mustExec(t, v, "INSERT INTO secret VALUES (1, 'the secret')")
	a := session(t, db, "attacker")
	mustExec(t, a, "CREATE TABLE mine (id BIGINT PRIMARY KEY, v TEXT)")
	return db, dbURL, a
}

// checkVictim fails t unless the victim's row is intact and the attacker
// is still its own role with its own search_path.
func checkVictim(t *testing.T, db *pg.DB, a storage.PluginSession) {
	t.Helper()
	rows := mustQuery(t, session(t, db, "victim"), "SELECT id, v FROM secret")
	if len(rows.Values) != 1 || rows.Values[0][1] != "the secret" {
		t.Errorf("victim's table changed: %v", rows.Values)
	}
	rows = mustQuery(t, a, "SELECT current_user, current_schemas(false)::text")
	if u, p := rows.Values[0][0].(string), rows.Values[0][1]; !strings.HasPrefix(u, "plugin_attacker@") || p != `{plugin_attacker}` {
		t.Errorf("attacker runs as %q with search_path %q", u, p)
	}
}

// TestSession_Attacks runs, as a plugin would, statements that try to leave
// the plugin's schema or identity, or to leave something behind on the
// pooled connection: each is refused, by the policy before it is sent or by
// the role's privileges, and the other plugin's data stays unreachable.
func TestSession_Attacks(t *testing.T) {
	db, _, a := victim(t)
	attacks := []string{
		// Take another identity or search_path.
		"SET ROLE postgres",
		"RESET ROLE",
		"set role none",
		"SET SESSION AUTHORIZATION postgres",
		"RESET SESSION AUTHORIZATION",
		"SET search_path TO plugin_victim",
		"SET LOCAL search_path TO plugin_victim",
		"SELECT set_config('role', 'postgres', false)",
		`SELECT pg_catalog."set_config"('search_path', 'plugin_victim', true)`,
		"SELECT set_config /* gap */ ('role', 'postgres', true)",
		`SELECT U&"\0073et_config"('role', 'postgres', false)`,
		`SELECT E'\'', set_config('role', 'postgres', false)`,
		`SELECT '\', set_config('role', 'postgres', false) --'`,
		"SELECT query_to_xml('SELECT set_config(''role'', ''postgres'', false)', true, true, '')",
		"SELECT ts_stat('SELECT v::tsvector FROM plugin_victim.secret')",
		"SELECT 1; RESET ROLE",
		"SELECT $$x$$; RESET ROLE",
		// Reach another schema, public, or a Warden table.
		"SELECT * FROM plugin_victim.secret",
		`SELECT * FROM "plugin_victim".secret`,
		"INSERT INTO plugin_victim.secret VALUES (2, 'mine now')",
		"UPDATE plugin_victim.secret SET v = 'x'",
		"DELETE FROM plugin_victim.secret",
		"TRUNCATE plugin_victim.secret",
		"DROP TABLE plugin_victim.secret",
		"ALTER TABLE plugin_victim.secret ADD COLUMN x BIGINT",
		"CREATE INDEX ON plugin_victim.secret (v)",
		"CREATE VIEW peek AS SELECT * FROM plugin_victim.secret",
		"CREATE TABLE public.dropbox (id BIGINT)",
		"CREATE TABLE plugin_victim.planted (id BIGINT)",
		"ALTER TABLE mine SET SCHEMA public",
		"ALTER TABLE mine OWNER TO postgres",
		"SELECT current_setting('data_directory')",
		// The server's files, programs and configuration.
		"COPY mine TO '/tmp/warden-leak'",
		"COPY (SELECT 1) TO PROGRAM 'id'",
		"COPY mine FROM '/etc/passwd'",
		"SELECT pg_read_file('/etc/passwd')",
		"SELECT pg_ls_dir('.')",
		"SELECT lo_import('/etc/passwd')",
		"SELECT lo_create(0)",
		"ALTER SYSTEM SET work_mem = '1GB'",
		"LOAD 'plpgsql'",
		"CREATE EXTENSION IF NOT EXISTS pgcrypto",
		"CHECKPOINT",
		"VACUUM mine",
		"ANALYZE mine",
		// Code the policy could not read, and roles and grants.
		"DO $$BEGIN RESET ROLE; END$$",
		"CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$BEGIN RESET ROLE; RETURN 1; END$$",
		"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
		"CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'",
		"CREATE TRIGGER t BEFORE INSERT ON mine FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
		"CREATE RULE r AS ON INSERT TO mine DO ALSO NOTIFY ch",
		"CALL p()",
		"CREATE ROLE evil SUPERUSER",
		"ALTER ROLE CURRENT_USER SET search_path = 'plugin_victim'",
		"GRANT ALL ON mine TO PUBLIC",
		"REVOKE ALL ON mine FROM PUBLIC",
		"CREATE SCHEMA evil",
		// State that would outlive the transaction on a pooled connection.
		"LISTEN ch",
		"NOTIFY ch",
		"UNLISTEN *",
		"SELECT pg_notify('ch', 'x')",
		"SELECT pg_logical_emit_message(false, 'warden', 'survives a rollback')",
		"SELECT pg_logical_emit_message(true, 'warden', 'x'::bytea)",
		"SELECT pg_advisory_lock(1)",
		"SELECT pg_try_advisory_lock(1)",
		"PREPARE p AS SELECT 1",
		"EXECUTE p",
		"DEALLOCATE ALL",
		"DECLARE c CURSOR WITH HOLD FOR SELECT 1",
		"CREATE TEMP TABLE tmp (id BIGINT)",
		"CREATE GLOBAL TEMPORARY TABLE tmp (id BIGINT)",
		"SELECT 1 AS id INTO TEMP tmp",
		"CREATE TABLE pg_temp.tmp (id BIGINT)",
		"DISCARD ALL",
		// random()'s seed lives as long as the pooled connection: the next
		// plugin on it would draw values the attacker can compute.
		"SELECT setseed(0.25)",
		// Locks on another plugin's partitions, taken by OID without a
		// privilege check, held to the end of the attacker's transaction.
		"SELECT * FROM pg_partition_tree(16384)",
		"SELECT * FROM pg_partition_ancestors(16384)",
		"SELECT pg_partition_root(16384)",
		// Another plugin's sizes and row counts, and the server's address.
		"SELECT pg_relation_size(16384)",
		"SELECT pg_total_relation_size(16384)",
		"SELECT pg_table_size(16384)",
		"SELECT pg_indexes_size(16384)",
		"SELECT pg_relation_filepath(16384)",
		"SELECT pg_stat_get_live_tuples(16384)",
		"SELECT n_tup_ins FROM pg_stat_user_tables",
		"SELECT * FROM pg_catalog.pg_statio_user_tables",
		`SELECT * FROM "pg_stat_all_tables"`,
		"SELECT inet_server_addr(), inet_server_port()",
		"SELECT inet_client_addr()",
		"SELECT inet_client_port()",
		// Transaction control belongs to Begin, Commit and Rollback.
		"BEGIN",
		"START TRANSACTION",
		"COMMIT",
		"ROLLBACK",
		"SAVEPOINT s",
		"RELEASE SAVEPOINT s",
		"SET TRANSACTION READ WRITE",
		"ABORT",
	}
	for _, q := range attacks {
		t.Run(q, func(t *testing.T) {
			_, err := a.Query(context.Background(), q, nil)
			var sqlErr *storage.SQLError
			multiple := errors.As(err, &sqlErr) && strings.Contains(sqlErr.Msg, "multiple statements")
			if !errors.Is(err, storage.ErrNotAllowed) && !multiple {
				t.Errorf("%s: %v, want ErrNotAllowed", q, err)
			}
		})
	}
	checkVictim(t, db, a)
	t.Run("InTransaction", func(t *testing.T) {
		ctx := context.Background()
		if err := a.Begin(ctx, true); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Exec(ctx, "RESET ROLE", nil); !errors.Is(err, storage.ErrNotAllowed) {
			t.Errorf("RESET ROLE in a transaction: %v", err)
		}
		if _, err := a.Query(ctx, "SELECT * FROM plugin_victim.secret", nil); !errors.Is(err, storage.ErrTxFailed) {
			t.Errorf("after a refusal: %v, want ErrTxFailed", err)
		}
		_ = a.Rollback(ctx)
		checkVictim(t, db, a)
	})
	t.Run("Allowed", func(t *testing.T) {
		for _, q := range []string{
			"SELECT $$;$$ AS semi, 'set_config(' AS s, E'\\'' AS e",
			"SELECT 1 AS temp;",
			"/* SET ROLE postgres; */ SELECT id AS set_config FROM mine -- RESET ROLE",
			"WITH x AS (INSERT INTO mine VALUES (7, 'w') RETURNING id) SELECT * FROM x",
			"CREATE UNIQUE INDEX IF NOT EXISTS mine_v ON mine (v)",
			"CREATE OR REPLACE VIEW mine_view AS SELECT id FROM mine",
			"ALTER TABLE mine ADD COLUMN n BIGINT",
			"CREATE TABLE copy_of AS SELECT * FROM mine",
			"DROP TABLE IF EXISTS copy_of",
		} {
			if _, err := a.Query(context.Background(), q, nil); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
}

// TestRole_Privileges checks the second line alone: statements the policy
// refuses, run directly as a plugin's role (as if the policy had missed
// them), are refused by PostgreSQL for lack of privilege. SET ROLE and
// RESET ROLE are the exception, which is why the policy refuses every
// statement that could run them, and the session checks the role after
// every statement (see RATIONALE.md and TestSession_roleCheck).
func TestRole_Privileges(t *testing.T) {
	db, dbURL, a := victim(t)
	var role string
	if err := scan(a, &role); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, q := range []string{
		"SELECT set_config('role', 'postgres', false)",
		"SELECT * FROM plugin_victim.secret",
		"INSERT INTO plugin_victim.secret VALUES (3, 'x')",
		"SELECT query_to_xml('SELECT * FROM plugin_victim.secret', true, true, '')",
		"CREATE TABLE public.dropbox (id BIGINT)",
		"CREATE TEMP TABLE tmp (id BIGINT)",
		"COPY (SELECT 1) TO '/tmp/warden-leak'",
		"COPY (SELECT 1) TO PROGRAM 'id'",
		"SELECT pg_read_file('/etc/passwd')",
		"SELECT pg_ls_dir('.')",
		"SELECT lo_import('/etc/passwd')",
		"SELECT pg_logical_emit_message(false, 'warden', 'survives a rollback')",
		"SELECT pg_logical_emit_message(false, 'warden', 'x'::bytea)",
		"CREATE EXTENSION IF NOT EXISTS pgcrypto",
		"CREATE SCHEMA evil",
		"CREATE ROLE evil",
		"GRANT " + pgx.Identifier{strings.Replace(role, "attacker", "victim", 1)}.Sanitize() + " TO CURRENT_USER",
		// Procedural code, whose body could reset the role: the role
		// may use no language (Open revokes USAGE from PUBLIC).
		"DO $$BEGIN RESET ROLE; END$$",
		"DO LANGUAGE plpgsql $$BEGIN PERFORM 1; END$$",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
		"CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $$BEGIN RESET ROLE; RETURN 1; END$$",
		"CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'",
	} {
		t.Run(q, func(t *testing.T) {
			err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+pgx.Identifier{role}.Sanitize()+"; SET LOCAL search_path TO plugin_attacker"); err != nil {
					t.Fatal(err)
				}
				_, err := tx.Exec(ctx, q)
				return err
			})
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" {
				t.Errorf("%s as the plugin role: %v, want insufficient_privilege (42501)", q, err)
			}
		})
	}
	checkVictim(t, db, a)
}

// scan reads the attacker's role name.
func scan(s storage.PluginSession, role *string) error {
	rows, err := s.Query(context.Background(), "SELECT current_user", nil)
	if err != nil {
		return err
	}
	*role = rows.Values[0][0].(string)
	return nil
}

// TestDB_ForPlugin_strangerRole: a role that already exists under a
// plugin role's name with a privilege (here LOGIN) is refused, never used
// to run the plugin.
func TestDB_ForPlugin_strangerRole(t *testing.T) {
	db, dbURL := open(t, pg.Options{})
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var dbName string
	if err := c.QueryRow(ctx, "SELECT current_database()").Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	role := pgx.Identifier{"plugin_stranger@" + dbName}.Sanitize()
	if _, err := c.Exec(ctx, "CREATE ROLE "+role+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.Exec(context.Background(), "DROP ROLE IF EXISTS "+role) })
	if _, err := db.ForPlugin(ctx, "stranger"); err == nil || !strings.Contains(err.Error(), "must not have") {
		t.Errorf("ForPlugin over a LOGIN role: %v, want it refused", err)
	}
}

// TestSession_pooledConnection: with one pooled connection, plugins take
// turns on it, each in its own identity; nothing of one stays for the next.
func TestSession_pooledConnection(t *testing.T) {
	db, _ := open(t, pg.Options{MaxConns: 1})
	ctx := context.Background()
	for i := range 3 {
		for _, p := range []string{"one", "two"} {
			s := session(t, db, p)
			if i == 0 {
				mustExec(t, s, "CREATE TABLE own (v TEXT)")
				mustExec(t, s, "INSERT INTO own VALUES ($1)", p)
			}
			if err := s.Begin(ctx, i%2 == 0); err != nil {
				t.Fatal(err)
			}
			rows := mustQuery(t, s, "SELECT current_user, v FROM own")
			if u := rows.Values[0][0].(string); !strings.HasPrefix(u, "plugin_"+p+"@") || rows.Values[0][1] != p {
				t.Errorf("round %d, plugin %s: runs as %s and reads %v", i, p, u, rows.Values[0][1])
			}
			if err := s.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			_ = s.Close()
		}
	}
}

// TestSession_lineCommentCR: PostgreSQL ends a -- comment at a carriage
// return as well as at a newline. A statement that the policy would read as
// one comment and a SELECT is, to PostgreSQL, RESET ROLE followed by a
// block comment: it must be refused, and the plugin's next statement in
// the transaction must still run as its own role.
func TestSession_lineCommentCR(t *testing.T) {
	ctx := context.Background()
	db, _, a := victim(t)
	if err := a.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec(ctx, "-- x\rRESET ROLE /*\nSELECT 1 */", nil); !errors.Is(err, storage.ErrNotAllowed) {
		t.Errorf("RESET ROLE after a comment ended by CR: %v, want ErrNotAllowed", err)
	}
	rows, err := a.Query(ctx, "SELECT v FROM plugin_victim.secret", nil)
	if err == nil {
		t.Errorf("the plugin read another plugin's table: %v", rows.Values)
	}
	_ = a.Rollback(ctx)
	checkVictim(t, db, a)
}

// TestSession_escapeStringContinued: PostgreSQL continues a string across
// whitespace holding a newline, and the continuation of an escape string
// (E'...') keeps its backslash escapes. A call the policy would read as
// inside a standard string is code to PostgreSQL: here a session-level
// advisory lock, which would stay on the pooled connection after the
// plugin's transaction. It must be refused, and no lock left behind.
func TestSession_escapeStringContinued(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t, pg.Options{MaxConns: 1})
	a := session(t, db, "attacker")
	if _, err := a.Query(ctx, "SELECT E''\n'\\'', pg_advisory_lock(77) --'", nil); !errors.Is(err, storage.ErrNotAllowed) {
		t.Errorf("a denied call in a continued escape string: %v, want ErrNotAllowed", err)
	}
	rows := mustQuery(t, a, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
	if n := rows.Values[0][0]; n != int64(0) {
		t.Errorf("%v advisory locks held after the statement, want none", n)
	}
}
