package pg

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/warden-rpc/warden/storage"
)

// The bound on a plugin's schema on disk (Options.MaxBytes).
//
// A write transaction measures the schema before it commits, in the same
// round trip as its COMMIT, and fails (rolled back, storage.ErrLimit)
// unless, with before its size when the transaction began and after its
// size then:
//
//   - after is within the bound; or
//   - after is no more than before and no more than the bound and a slack
//     of an eighth of it: the transaction wrote into room the schema had
//     (a delete's, once vacuumed, or a refused write's); or
//   - after is no more than before and every statement of the transaction
//     was a DELETE, TRUNCATE or DROP: a plugin over the bound and its
//     slack (the bound was lowered) may still make room.
//
// The sizes are those of the files, so PostgreSQL's own way of storing
// decides them: a delete frees room inside a table for later rows once a
// VACUUM has passed, and a refused write's rows stay in the files, dead,
// until one does; VACUUM gives the disk back only a table's empty last
// pages, and not when they are fewer than 1,000 and a sixteenth of the
// table, and never an index's, whose emptied pages it keeps for the
// index's later entries. Warden vacuums the plugin's tables after every
// refusal (reclaim), so that the room comes back at once; what VACUUM
// keeps of a refused write is the room the slack lets a plugin fill.
// Without the slack, a plugin at its bound could write nothing once a
// refusal had left such pages; without a limit on it, refusal after
// refusal would add room past the bound without end. A refused write that
// leaves more than the slack (a large batch's index entries) leaves the
// plugin to delete, truncate or drop, or its operator to raise the bound
// or reindex.
//
// An autocommit statement measures against the bound alone, and only when
// it is refused is it run again, once, as a transaction that measures the
// schema at its start too: the common case pays one measurement, in the
// round trip it had. A plugin's transaction (Begin) measures at its start
// only while the node has seen the plugin over its bound (names.over);
// otherwise the bound alone decides, which can only refuse more, and the
// refusal teaches the node, so that a transaction of deletes refused so
// passes when the plugin retries it. See RATIONALE.md.

// slackFraction is the slack past the bound that a transaction may fill
// in room the schema already had: the bound divided by it. An eighth is
// more than the last pages VACUUM keeps of every table (under a
// sixteenth of each, so of the sum), within the bound and its slack.
const slackFraction = 8

// errOverBound is how a statement or commit fails when its transaction
// grew the plugin's schema past Options.MaxBytes.
var errOverBound = fmt.Errorf("%w: the database is full: the plugin's tables, indexes and sequences would take more bytes on disk than its bound (-plugin-db-max-bytes)", storage.ErrLimit)

// The statements that measure a plugin's schema, prepared on every
// connection of the pool (prepareSize), so that PostgreSQL plans them once
// per connection and plugin rather than at every write: sizeStmt($1, the
// schema's name, quoted as an identifier) returns its bytes on disk, and sizeCheckStmt($1, $2)
// divides by zero when the transaction wrote (it has a transaction ID) and
// the schema takes more than $2 bytes; a transaction that wrote nothing
// does not measure. The plugin's statements cannot name them: the policy
// refuses EXECUTE and DEALLOCATE.
const (
	sizeStmt      = "warden_size"
	sizeCheckStmt = "warden_size_check"
)

// sizeSQL is an expression for the bytes on disk of the relations in the
// schema $1 names (a quoted identifier, as regnamespace reads it): pg_total_relation_size of each table, materialized view
// and sequence (a table's counts its TOAST data and its indexes, dead
// tuples and the uncommitted rows of any transaction included, since it
// measures the files). The relations are found through their dependency
// on the schema in pg_depend, whose index finds them without reading all
// of pg_class. Every name is qualified with pg_catalog, as in roleCheck.
const sizeSQL = "(SELECT COALESCE(pg_catalog.sum(pg_catalog.pg_total_relation_size(objid)), 0)::pg_catalog.int8 FROM pg_catalog.pg_depend" +
	" WHERE refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass" +
	" AND refobjid OPERATOR(pg_catalog.=) $1::pg_catalog.text::pg_catalog.regnamespace" +
	" AND classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass" +
	" AND objsubid OPERATOR(pg_catalog.=) 0 AND deptype OPERATOR(pg_catalog.=) 'n')"

// prepareSize prepares sizeStmt and sizeCheckStmt on a new connection.
func prepareSize(ctx context.Context, c *pgconn.PgConn) error {
	for _, st := range []struct{ name, sql string }{
		{sizeStmt, "SELECT " + sizeSQL},
		{sizeCheckStmt, "SELECT 1 OPERATOR(pg_catalog./) (CASE WHEN pg_catalog.pg_current_xact_id_if_assigned() IS NULL THEN true ELSE " +
			sizeSQL + " OPERATOR(pg_catalog.<=) $2::pg_catalog.int8 END)::pg_catalog.int4"},
	} {
		if _, err := c.Prepare(ctx, st.name, st.sql, nil); err != nil {
			return fmt.Errorf("prepare %s: %w", st.name, err)
		}
	}
	return nil
}

// sizeCheckSQL returns a statement that runs sizeCheckStmt on the schema
// of n with bound.
func (n *names) sizeCheckSQL(bound int64) string {
	return "EXECUTE " + sizeCheckStmt + "(" + literal(quote(n.schema)) + ", " + strconv.FormatInt(bound, 10) + ")"
}

// commitBound returns the largest size a write transaction that began
// when the schema took before bytes may leave it at (see above), 0 for
// not measured, which leaves the bound alone; deletes is set if every
// statement of the transaction was a DELETE, TRUNCATE or DROP.
func (db *DB) commitBound(before int64, deletes bool) int64 {
	room := min(before, db.opts.MaxBytes+db.opts.MaxBytes/slackFraction)
	if deletes {
		room = before
	}
	return max(db.opts.MaxBytes, room)
}

// deletes reports whether query is a DELETE, TRUNCATE or DROP, which
// cannot add rows (a DELETE's cascades aside, which the room bounds), by
// its first word. A statement that starts otherwise, with a comment say,
// is not one, which costs such a plugin only the last rule above.
func deletes(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	i := strings.IndexFunc(q, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') })
	if i < 0 {
		i = len(q)
	}
	switch strings.ToUpper(q[:i]) {
	case "DELETE", "TRUNCATE", "DROP":
		return true
	}
	return false
}

// beginSized opens a write transaction on c, as Begin does, and returns
// the size of the plugin's schema at its start; it notes whether the
// schema is over the bound (names.over).
func (s *Session) beginSized(ctx context.Context, c *pgconn.PgConn) (int64, error) {
	res, err := c.Exec(ctx, s.n.beginRWSized).ReadAll()
	if err != nil {
		return 0, err
	}
	last := res[len(res)-1]
	if len(last.Rows) != 1 || len(last.Rows[0]) != 1 {
		return 0, fmt.Errorf("measure the schema: %d rows", len(last.Rows))
	}
	size, err := strconv.ParseInt(string(last.Rows[0][0]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("measure the schema: %w", err)
	}
	s.n.over.Store(size > s.db.opts.MaxBytes)
	return size, nil
}

// commitSized commits the open write transaction, which began when the
// schema took s.before bytes (0: not measured), unless it grew the schema
// past the bound (commitBound), in one round trip. After a refusal the
// plugin's tables are vacuumed (reclaim), and the plugin is noted as over
// its bound (names.over), so that its next write transaction measures at
// its start.
//
// # Errors
//
// errOverBound (rolled back), or COMMIT's error.
func (s *Session) commitSized(ctx context.Context) error {
	bound := s.db.commitBound(s.before, !s.adds)
	err := simple(ctx, s.conn.Conn().PgConn(), s.n.sizeCheckSQL(bound)+"; COMMIT")
	s.end()
	if sqlState(err) == stateDivisionByZero { // only the check divides
		s.n.over.Store(true)
		return s.reclaim(ctx, errOverBound)
	}
	return err
}

// retrySized runs an autocommit statement that the bound refused again,
// once, in a transaction that measures the schema at its start, so that a
// statement that does not grow the schema (a DELETE) commits over the
// bound; the tables are vacuumed first (reclaim), so that what the
// refused attempt wrote, and earlier deletes, are room again.
func (s *Session) retrySized(ctx context.Context, query string, p *params, lim *limits, ddl bool) (int64, *storage.Rows, error) {
	if err := s.reclaim(ctx, nil); err != nil {
		return 0, nil, errors.Join(errOverBound, err)
	}
	c, err := s.acquire(ctx)
	if err != nil {
		return 0, nil, err
	}
	before, err := s.beginSized(ctx, c.Conn().PgConn())
	if err != nil {
		s.release(c)
		return 0, nil, err
	}
	s.conn, s.sized, s.before, s.adds = c, true, before, !deletes(query)
	var pre []string
	if ddl {
		pre = []string{s.n.lockDDL}
	}
	n, rows, err := s.send(ctx, c.Conn().PgConn(), pre, query, p, lim, ddl, false)
	if err != nil {
		s.end()
		return 0, nil, err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endTimeout)
	defer cancel()
	if err := s.commitSized(cctx); err != nil {
		return 0, nil, err
	}
	return n, rows, nil
}

// reclaim vacuums the plugin's tables and materialized views after a
// transaction that the bound refused, whose rows would otherwise take
// room until autovacuum came by, and returns refused, the refusal, with
// the vacuum's error if it failed. VACUUM runs as Warden's role, which is
// a member of the plugin's (it inherits the owner's right to vacuum; a
// role that does not, NOINHERIT, vacuums nothing and is warned, and the
// room waits for autovacuum), on a connection of the plugin's share of the
// pool, within ctx and the statement timeout.
func (s *Session) reclaim(ctx context.Context, refused error) error {
	ctx, cancel := context.WithTimeout(ctx, s.db.opts.StatementTimeout)
	defer cancel()
	c, err := s.acquire(ctx)
	if err != nil {
		return errors.Join(refused, fmt.Errorf("reclaim the plugin's room: %w", err))
	}
	defer s.release(c)
	pc := c.Conn().PgConn()
	res := pc.ExecParams(ctx, "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'm') ORDER BY 1",
		[][]byte{[]byte(s.n.schema)}, nil, nil, nil).Read()
	err = res.Err
	if err == nil && len(res.Rows) > 0 {
		names := make([]string, len(res.Rows))
		for i, r := range res.Rows {
			names[i] = string(r[0])
		}
		err = simple(ctx, pc, "VACUUM "+strings.Join(names, ", "))
	}
	if err != nil {
		return errors.Join(refused, fmt.Errorf("reclaim the plugin's room: %w", classify(ctx, err)))
	}
	return refused
}
