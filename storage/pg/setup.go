package pg

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxIdent is PostgreSQL's identifier length in bytes (NAMEDATALEN - 1);
// longer names are truncated, which could make two plugins' names collide.
const maxIdent = 63

// schemaPrefix starts every plugin schema's name.
const schemaPrefix = "plugin_"

// setupLockKey is the advisory lock that serialises Warden's own DDL
// (harden, setUp) between nodes sharing a database.
const setupLockKey = 0x57415244454e // "WARDEN"

// names are a plugin's schema and role, and the statements that start each
// of its transactions.
type names struct {
	schema, role string
	// conns holds one token per pool connection the plugin's sessions
	// hold, at most Options.MaxConnsPerPlugin.
	conns chan struct{}
	// beginRW and beginRO open a write or a read-only transaction in the
	// plugin's identity, in one simple-protocol round trip.
	beginRW, beginRO string
	// setupRW is beginRW, one statement at a time, for a pipeline.
	setupRW []string
	// lockDDL takes the plugin's DDL lock (see Session.statement).
	lockDDL string
	// roleCheck divides by zero unless the transaction runs as the
	// plugin's role (see Session.send). Its operators, casts and type are
	// qualified with pg_catalog, so that nothing in the plugin's schema can
	// stand in for them.
	roleCheck string
	// relationCheck divides by zero when the plugin's schema holds more
	// than Options.MaxRelations relations; it follows every statement that
	// changes the schema (see Session.send), qualified as roleCheck is.
	relationCheck string
	// beginRWSized is beginRW followed by sizeStmt, which measures the
	// plugin's schema and the row versions written to it (see size.go).
	beginRWSized string
	// sizeCheckArgs are the arguments of sizeCheckStmt that follows an
	// autocommit statement: the schema, quoted, and Options.MaxBytes; nil
	// when there is no bound.
	sizeCheckArgs [][]byte
	// setRole sets the plugin's role for the rest of the transaction.
	setRole string
	// mark is the plugin's mark, qualified and quoted, and markArgs the
	// arguments of markStmt and markCheckStmt (see mark.go).
	mark     string
	markArgs [][]byte
	// stepsBy are Warden's steps after a plugin statement (see
	// Session.send), by whether it changes the schema and commits.
	stepsBy [2][2][]step
	// over is set while the plugin's schema was last seen over
	// Options.MaxBytes, by a measurement or a refusal: then its write
	// transactions measure the schema at their start (see size.go).
	over atomic.Bool
}

// identifier returns name if it fits an identifier, else its first bytes
// and a hash of it, separated by '#', which no plugin name contains, so that
// a shortened name never equals another plugin's full one.
func identifier(name string) string {
	if len(name) <= maxIdent {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	h := hex.EncodeToString(sum[:4])
	return name[:maxIdent-len(h)-1] + "#" + h
}

// ddlLockKey is the key of the advisory lock of schema's DDL: the first 8
// bytes of a SHA-256 of its name. A plugin's name is its author's choice,
// so the key must be one no name chosen can share with another plugin's:
// a 32-bit FNV hash, which it was, gave a colliding name in a second of
// search (TestSession_ddlLockIsThePlugins), and that plugin held the
// other's lock. Finding a name that shares 64 bits of SHA-256 with a
// given one is a 2^64 search. The keys of Warden's own locks
// (setupLockKey, ownLockKey) are in the same space of single bigint keys,
// as unreachable.
func ddlLockKey(schema string) int64 {
	sum := sha256.Sum256([]byte("warden ddl lock\x00" + schema))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// newNames returns the names of plugin's schema and role in the database
// dbName. Roles belong to the whole PostgreSQL cluster, so the role's name
// carries the database's: two Warden databases in one cluster never share a
// role.
func newNames(dbName, plugin string, o Options, tempLimit string) *names {
	n := &names{
		schema: identifier(schemaPrefix + plugin),
		role:   identifier(schemaPrefix + plugin + "@" + dbName),
		conns:  make(chan struct{}, o.MaxConnsPerPlugin),
	}
	var set []string
	if tempLimit != "" { // before the role, which may not set it
		set = append(set, tempLimit)
	}
	// temp_file_limit bounds each process, and each parallel worker a
	// plan starts would have a bound of its own: no parallel workers.
	set = append(set, "SET LOCAL max_parallel_workers_per_gather = 0", "SET LOCAL max_parallel_maintenance_workers = 0")
	n.setRole = "SET LOCAL ROLE " + quote(n.role)
	set = append(set,
		n.setRole,
		"SET LOCAL search_path TO "+quote(n.schema),
		"SET LOCAL statement_timeout = "+strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10),
		"SET LOCAL lock_timeout = "+strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10),
		"SET LOCAL standard_conforming_strings = on",
		"SET LOCAL bytea_output = 'hex'",
		"SET LOCAL extra_float_digits = 1",
	)
	rw := "BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE"
	n.setupRW = append([]string{rw}, set...)
	n.beginRW = strings.Join(n.setupRW, "; ")
	n.lockDDL = fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", ddlLockKey(n.schema))
	n.roleCheck = "SELECT 1 OPERATOR(pg_catalog./) (CURRENT_USER OPERATOR(pg_catalog.=) " +
		literal(n.role) + "::pg_catalog.name)::pg_catalog.int4"
	n.relationCheck = "SELECT 1 OPERATOR(pg_catalog./) ((SELECT pg_catalog.count(*) FROM pg_catalog.pg_class WHERE relnamespace OPERATOR(pg_catalog.=) " +
		literal(quote(n.schema)) + "::pg_catalog.regnamespace) OPERATOR(pg_catalog.<=) " + strconv.Itoa(o.MaxRelations) + ")::pg_catalog.int4"
	n.beginRWSized = n.beginRW + "; EXECUTE " + sizeStmt + "(" + literal(quote(n.schema)) + ")"
	n.mark = quote(markSchema) + "." + quote(n.schema)
	if o.MaxBytes > 0 {
		n.sizeCheckArgs = [][]byte{[]byte(quote(n.schema)), []byte(strconv.FormatInt(o.MaxBytes, 10))}
		n.markArgs = [][]byte{[]byte(quote(n.schema)), []byte(n.mark)}
	}
	for _, ddl := range []bool{false, true} {
		for _, commit := range []bool{false, true} {
			n.stepsBy[b2i(ddl)][b2i(commit)] = n.newSteps(ddl, commit)
		}
	}
	n.beginRO = strings.Join(append([]string{"BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"}, set...), "; ")
	return n
}

// newSteps returns Warden's steps after a plugin statement (see
// Session.send): the role check; the relation check if ddl is set; if
// commit is set, the mark's steps and the size check when the schema has a
// bound, and COMMIT.
func (n *names) newSteps(ddl, commit bool) []step {
	steps := []step{{sql: n.roleCheck, fails: errRoleChanged}}
	if ddl {
		steps = append(steps, step{sql: n.relationCheck, fails: errTooManyRelations})
	}
	if commit && n.sizeCheckArgs != nil {
		steps = append(steps, n.markSteps(ddl)...)
		steps = append(steps, step{sql: sizeCheckStmt, args: n.sizeCheckArgs, prepared: true, fails: errOverBound})
	}
	if commit {
		steps = append(steps, step{sql: "COMMIT"})
	}
	return steps
}

// steps returns newSteps(ddl, commit), made once.
func (n *names) steps(ddl, commit bool) []step { return n.stepsBy[b2i(ddl)][b2i(commit)] }

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// quote quotes an identifier for PostgreSQL.
func quote(name string) string { return pgx.Identifier{name}.Sanitize() }

// literal quotes a string constant for PostgreSQL, with
// standard_conforming_strings on (as every plugin transaction sets it).
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// harden takes from PUBLIC, once per database, what would let a plugin role
// reach beyond its schema: the schema public, temporary tables (pg_temp
// lives as long as a pooled connection, across plugins), set_config, which
// could set the role back to Warden's, pg_logical_emit_message, which
// writes WAL that a rollback keeps, and the trusted languages, whose code
// could reset the role (see RATIONALE.md). Each is revoked only
// if PUBLIC still has it, so that a role that may not revoke it can run
// Warden once an administrator has.
//
// # Errors
//
// An error naming the statement to run as a superuser when the connecting
// role may not run it itself.
func (db *DB) harden(ctx context.Context) error {
	// Each query returns the REVOKE statements still to run.
	queries := []string{
		`SELECT 'REVOKE ALL ON SCHEMA public FROM PUBLIC'
WHERE has_schema_privilege('public', 'public', 'USAGE') OR has_schema_privilege('public', 'public', 'CREATE')`,
		`SELECT format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database())
WHERE has_database_privilege('public', current_database(), 'TEMPORARY')`,
		// Every overload: PostgreSQL 17 adds a flush argument to
		// pg_logical_emit_message.
		`SELECT format('REVOKE EXECUTE ON FUNCTION pg_catalog.%I(%s) FROM PUBLIC', p.proname, pg_get_function_identity_arguments(p.oid))
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname IN ('set_config', 'pg_logical_emit_message')
AND has_function_privilege('public', p.oid, 'EXECUTE')
ORDER BY 1`,
		// Trusted languages (sql, plpgsql): without USAGE a plugin role
		// may neither run a DO block nor create a function or procedure,
		// the only ways to run a statement (RESET ROLE) that the policy
		// has not read.
		`SELECT format('REVOKE USAGE ON LANGUAGE %I FROM PUBLIC', l.lanname)
FROM pg_catalog.pg_language l
WHERE l.lanpltrusted AND has_language_privilege('public', l.oid, 'USAGE')
ORDER BY 1`,
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(setupLockKey)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		for _, q := range queries {
			rows, _ := tx.Query(ctx, q)
			revokes, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return fmt.Errorf("check %q: %w", q, err)
			}
			for _, revoke := range revokes {
				if _, err := tx.Exec(ctx, revoke); err != nil {
					return fmt.Errorf("%w (have a superuser run %q once)", err, revoke)
				}
			}
		}
		return nil
	})
}

// tempFileLimit returns the statement that bounds a plugin transaction's
// temporary files to Options.MaxTempFileBytes, when Warden's role may set
// temp_file_limit (a superuser, or one granted SET ON PARAMETER), or ""
// when it may not but its sessions are bounded as tightly already (by
// ALTER ROLE or ALTER DATABASE, or the server's configuration): a plugin
// role may never set it.
//
// # Errors
//
// An error naming the statement for a superuser to run once when Warden's
// role may not set temp_file_limit and its sessions have no such bound.
func (db *DB) tempFileLimit(ctx context.Context) (string, error) {
	kb := (db.opts.MaxTempFileBytes + 1023) / 1024
	set := "SET LOCAL temp_file_limit = " + strconv.FormatInt(kb, 10)
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, set)
		return err
	})
	var pe *pgconn.PgError
	if err == nil {
		return set, nil
	} else if !errors.As(err, &pe) || pe.Code != statePrivilege {
		return "", fmt.Errorf("temp_file_limit: %w", err)
	}
	var now int64 // kB, -1 for none
	var role string
	if err := db.pool.QueryRow(ctx, "SELECT setting::bigint, current_user FROM pg_catalog.pg_settings WHERE name = 'temp_file_limit'").Scan(&now, &role); err != nil {
		return "", fmt.Errorf("temp_file_limit: %w", err)
	}
	if now >= 0 && now <= kb {
		return "", nil
	}
	return "", fmt.Errorf("role %s may not bound plugins' temporary files, and its sessions' temp_file_limit is %d kB (-1: none), over %d (have a superuser run %q once, or on PostgreSQL 15 and later %q)",
		role, now, kb, fmt.Sprintf("ALTER ROLE %s SET temp_file_limit = %d", quote(role), kb), "GRANT SET ON PARAMETER temp_file_limit TO "+quote(role))
}

// setUp creates plugin's role and schema if they do not exist, under a
// transaction-scoped advisory lock so that nodes opening the same plugin at
// once do not race. The role is NOLOGIN, with no attribute and no
// membership; the schema is the role's, with a domain BLOB over BYTEA so
// that portable DDL ("v BLOB") means the same on both engines. Warden's
// role is granted the plugin role, so that it may SET ROLE to it.
//
// # Errors
//
// An error if the role exists with an attribute or membership it should not
// have (someone else's role), or PostgreSQL's error.
func (db *DB) setUp(ctx context.Context, plugin string) (*names, error) {
	n := newNames(db.dbName, plugin, db.opts, db.tempLimit)
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(setupLockKey)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", n.role).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if err := createRole(ctx, tx, n.role); err != nil {
				return err
			}
		}
		if err := checkRole(ctx, tx, n.role); err != nil {
			return err
		}
		stmts := []string{
			"GRANT " + quote(n.role) + " TO CURRENT_USER",
			"CREATE SCHEMA IF NOT EXISTS " + quote(n.schema) + " AUTHORIZATION " + quote(n.role),
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		if err := createBlob(ctx, tx, n); err != nil {
			return err
		}
		if db.opts.MaxBytes > 0 {
			return createMark(ctx, tx, n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if db.opts.MaxBytes > 0 {
		if err := forgetFutureMark(ctx, db.pool, n); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// forgetFutureMark resets the plugin's mark to never set if it holds a
// transaction ID that the cluster has not given yet: pg_dump saves a
// sequence's value, so a database restored into another cluster keeps
// marks from the old one's history, which every snapshot takes for a
// transaction that has not ended, and every write of the plugin would
// fail with storage.ErrBusy until the new cluster's IDs passed them
// (TestDB_markFromAnotherHistory). Every relation of the schema was
// created in that history, and is in every snapshot. The first look takes
// no lock; the reset holds the plugin's DDL lock, which a transaction that
// sets the mark holds to its end, and looks again with a snapshot taken
// after it: a real mark is then below the snapshot's xmax.
func forgetFutureMark(ctx context.Context, pool *pgxpool.Pool, n *names) error {
	const future = "COALESCE(pg_catalog.pg_sequence_last_value($1::pg_catalog.text::pg_catalog.regclass)::pg_catalog.text::pg_catalog.xid8" +
		" OPERATOR(pg_catalog.>=) pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot()), false)"
	return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		var ahead bool
		if err := tx.QueryRow(ctx, "SELECT "+future, n.mark).Scan(&ahead); err != nil || !ahead {
			return err
		}
		if _, err := tx.Exec(ctx, n.lockDDL); err != nil {
			return fmt.Errorf("reset the mark %s: %w", n.mark, err)
		}
		if _, err := tx.Exec(ctx, "SELECT pg_catalog.setval($1::pg_catalog.text::pg_catalog.regclass, 1, false) WHERE "+future, n.mark); err != nil {
			return fmt.Errorf("reset the mark %s: %w", n.mark, err)
		}
		return nil
	})
}

// createRole creates role, tolerating another database's Warden creating it
// at the same time (advisory locks are per database).
func createRole(ctx context.Context, tx pgx.Tx, role string) error {
	_, err := tx.Exec(ctx, "SAVEPOINT create_role")
	if err == nil {
		_, err = tx.Exec(ctx, "CREATE ROLE "+quote(role)+" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS")
	}
	if err == nil {
		_, err = tx.Exec(ctx, "RELEASE SAVEPOINT create_role")
		return err
	}
	if code := sqlState(err); code == "42710" || code == "23505" { // duplicate_object, unique_violation
		_, err = tx.Exec(ctx, "ROLLBACK TO SAVEPOINT create_role")
		return err
	}
	return fmt.Errorf("create role %s: %w", role, err)
}

// checkRole refuses a role that is not a bare NOLOGIN role: Warden would
// otherwise run plugins with a stranger's privileges.
func checkRole(ctx context.Context, tx pgx.Tx, role string) error {
	var bad bool
	err := tx.QueryRow(ctx, `SELECT r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolcanlogin
		OR r.rolreplication OR r.rolbypassrls
		OR EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid)
		FROM pg_roles r WHERE r.rolname = $1`, role).Scan(&bad)
	if err != nil {
		return fmt.Errorf("check role %s: %w", role, err)
	}
	if bad {
		return fmt.Errorf("role %s exists with privileges or memberships a plugin role must not have", role)
	}
	return nil
}

// createBlob creates the domain blob in the plugin's schema, owned by its
// role, if it is missing.
func createBlob(ctx context.Context, tx pgx.Tx, n *names) error {
	var missing bool
	err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace s ON s.oid = t.typnamespace
		WHERE s.nspname = $1 AND t.typname = 'blob')`, n.schema).Scan(&missing)
	if err != nil || !missing {
		return err
	}
	for _, s := range []string{
		"CREATE DOMAIN " + quote(n.schema) + ".blob AS bytea",
		"ALTER DOMAIN " + quote(n.schema) + ".blob OWNER TO " + quote(n.role),
	} {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// sqlState returns the SQLSTATE of a PostgreSQL error, "" for another error.
func sqlState(err error) string {
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		return pe.SQLState()
	}
	return ""
}
