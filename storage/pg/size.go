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
//   - after is no more than before, every statement of the transaction
//     was a DELETE, TRUNCATE or DROP, and it wrote no row version (no
//     relation of the schema has more inserted or updated rows in the
//     connection's pending statistics than at its start, writesSQL): a
//     plugin over the bound and its slack (the bound was lowered) may
//     still make room.
//
// before counts the files, so the uncommitted rows of the plugin's other
// transactions too, which a refusal and its vacuum may give back to the
// disk before this one commits: before is no bound on what the
// transaction itself may add, and comparing each relation's size with its
// own at the start would not be either (the rows in flight may be in the
// very table the transaction grows). So the rule of deletes asks that the
// transaction add nothing at all: a DELETE writes no row version, and
// only new row versions (a cascade's ON DELETE SET NULL or SET DEFAULT, a
// trigger's insert) grow a table, its TOAST table or its indexes. The
// counts are the backend's own, which no other connection changes; a
// TRUNCATE or DROP resets them with the relation's files. A transaction
// of deletes that wrote row versions, however few, is held to the rules
// before it (fail closed); so is every one when track_counts is off.
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
// schema's name, quoted as an identifier) returns its bytes on disk and
// the relations with row versions written (writesSQL) as two arrays, in
// text, of their oids and counts; sizeCheckStmt($1, $2) divides by zero
// when the transaction wrote (it has a transaction ID) and the schema
// takes more than $2 bytes; deletesCheckStmt($1, $2, $3, $4, $5) when it
// wrote and the schema takes more than $2 bytes, unless it takes no more
// than $3 and no relation has more row versions written than at the
// start, $4 and $5 (those sizeStmt returned then; a relation not in them,
// 0). A transaction that wrote nothing does not measure. The plugin's statements cannot name them: the policy
// refuses EXECUTE and DEALLOCATE.
const (
	sizeStmt         = "warden_size"
	sizeCheckStmt    = "warden_size_check"
	deletesCheckStmt = "warden_size_check_deletes"
)

// sizeSQL is an expression for the bytes on disk of the relations in the
// schema $1 names (a quoted identifier, as regnamespace reads it): pg_total_relation_size of each table, materialized view
// and sequence (a table's counts its TOAST data and its indexes, dead
// tuples and the uncommitted rows of any transaction included, since it
// measures the files). The relations are found through their dependency
// on the schema in pg_depend, whose index finds them without reading all
// of pg_class. Every name is qualified with pg_catalog, as in roleCheck.
const sizeSQL = "(SELECT " + sumSizesSQL + " " + relationsSQL + ")"

// sumSizesSQL sums pg_total_relation_size over the objid of the rows of
// relationsSQL.
const sumSizesSQL = "COALESCE(pg_catalog.sum(pg_catalog.pg_total_relation_size(objid)), 0)::pg_catalog.int8"

// relationsSQL is the FROM and WHERE of a query over the relations in the
// schema $1 names, each an objid (see sizeSQL).
const relationsSQL = "FROM pg_catalog.pg_depend" +
	" WHERE refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass" +
	" AND refobjid OPERATOR(pg_catalog.=) $1::pg_catalog.text::pg_catalog.regnamespace" +
	" AND classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass" +
	" AND objsubid OPERATOR(pg_catalog.=) 0 AND deptype OPERATOR(pg_catalog.=) 'n'"

// writesSQL is an expression for the row versions this connection's
// backend wrote to the relation objid (inserted or updated; a DELETE
// writes none) that PostgreSQL has not yet sent to its shared statistics:
// those of the current transaction, and of earlier ones on the connection
// (sent when it next idles, at most every second). A TRUNCATE or DROP sets
// the current transaction's back to 0, with the relation's files.
const writesSQL = "(pg_catalog.pg_stat_get_xact_tuples_inserted(objid) OPERATOR(pg_catalog.+) pg_catalog.pg_stat_get_xact_tuples_updated(objid))"

// prepareSize prepares sizeStmt, sizeCheckStmt and deletesCheckStmt on a
// new connection.
func prepareSize(ctx context.Context, c *pgconn.PgConn) error {
	for _, st := range []struct{ name, sql string }{
		{sizeStmt, "SELECT " + sumSizesSQL + ", COALESCE(pg_catalog.array_agg(objid) FILTER (WHERE w OPERATOR(pg_catalog.>) 0), '{}')::pg_catalog.text" +
			", COALESCE(pg_catalog.array_agg(w) FILTER (WHERE w OPERATOR(pg_catalog.>) 0), '{}')::pg_catalog.text" +
			" FROM (SELECT objid, " + writesSQL + " AS w " + relationsSQL + ") AS r"},
		{sizeCheckStmt, "SELECT 1 OPERATOR(pg_catalog./) (CASE WHEN pg_catalog.pg_current_xact_id_if_assigned() IS NULL THEN true ELSE " +
			sizeSQL + " OPERATOR(pg_catalog.<=) $2::pg_catalog.int8 END)::pg_catalog.int4"},
		{deletesCheckStmt, "SELECT 1 OPERATOR(pg_catalog./) (CASE WHEN pg_catalog.pg_current_xact_id_if_assigned() IS NULL THEN true ELSE" +
			" (SELECT size OPERATOR(pg_catalog.<=) $2::pg_catalog.int8 OR size OPERATOR(pg_catalog.<=) $3::pg_catalog.int8" +
			" AND pg_catalog.current_setting('track_counts')::pg_catalog.bool" +
			" AND NOT EXISTS (SELECT " + relationsSQL + " AND " + writesSQL + " OPERATOR(pg_catalog.>) COALESCE((SELECT b.w FROM ROWS FROM (pg_catalog.unnest($4::pg_catalog.oid[]), pg_catalog.unnest($5::pg_catalog.int8[])) AS b(o, w)" +
			" WHERE b.o OPERATOR(pg_catalog.=) objid), 0))" +
			" FROM (SELECT " + sizeSQL + ") AS m(size)) END)::pg_catalog.int4"},
	} {
		if _, err := c.Prepare(ctx, st.name, st.sql, nil); err != nil {
			return fmt.Errorf("prepare %s: %w", st.name, err)
		}
	}
	for _, st := range markStatements {
		if _, err := c.Prepare(ctx, st.name, st.sql, nil); err != nil {
			return fmt.Errorf("prepare %s: %w", st.name, err)
		}
	}
	return nil
}

// sizeCheck returns the step that runs sizeCheckStmt on the schema of n
// with bound.
func (n *names) sizeCheck(bound int64) step {
	return step{sql: sizeCheckStmt, args: [][]byte{[]byte(quote(n.schema)), []byte(strconv.FormatInt(bound, 10))}, prepared: true, fails: errOverBound}
}

// deletesCheck returns the step that runs deletesCheckStmt on the schema
// of n, with bound, the bound of a transaction of deletes, and the row
// versions written to each relation at the transaction's start.
func (n *names) deletesCheck(bound, deletesBound int64, start start) step {
	return step{sql: deletesCheckStmt, args: [][]byte{[]byte(quote(n.schema)), []byte(strconv.FormatInt(bound, 10)),
		[]byte(strconv.FormatInt(deletesBound, 10)), []byte(start.oids), []byte(start.writes)}, prepared: true, fails: errOverBound}
}

// start is what a write transaction measured at its start (beginSized):
// the bytes of the plugin's schema, 0 for not measured, and, as arrays in
// PostgreSQL's text form, the relations to which the connection had
// written row versions not yet in the shared statistics, and how many
// (see writesSQL).
type start struct {
	bytes        int64
	oids, writes string
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
// cannot add rows (a DELETE's cascades and triggers aside, which
// deletesCheckStmt refuses), by
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
// what it measured at its start; it notes whether the schema is over the
// bound (names.over).
func (s *Session) beginSized(ctx context.Context, c *pgconn.PgConn) (start, error) {
	res, err := c.Exec(ctx, s.n.beginRWSized).ReadAll()
	if err != nil {
		return start{}, err
	}
	last := res[len(res)-1]
	if len(last.Rows) != 1 || len(last.Rows[0]) != 3 {
		return start{}, fmt.Errorf("measure the schema: %d rows", len(last.Rows))
	}
	row := last.Rows[0]
	size, err := strconv.ParseInt(string(row[0]), 10, 64)
	if err != nil {
		return start{}, fmt.Errorf("measure the schema: %w", err)
	}
	s.n.over.Store(size > s.db.opts.MaxBytes)
	return start{bytes: size, oids: string(row[1]), writes: string(row[2])}, nil
}

// commitSized commits the open write transaction, which began with
// s.before measured (its bytes 0: not measured), unless it grew the schema
// past the bound (commitBound), in one round trip, after the mark's steps
// (mark.go). A transaction of
// deletes only that was measured at its start commits under the larger
// bound of deletes only if it wrote no row version (deletesCheckStmt).
// After a refusal the plugin's tables are vacuumed (reclaim), and the
// plugin is noted as over its bound (names.over), so that its next write
// transaction measures at its start.
//
// # Errors
//
// errOverBound (rolled back), errDDLCommitted or errUnmarked (rolled
// back), or COMMIT's error.
func (s *Session) commitSized(ctx context.Context) error {
	check := s.n.sizeCheck(s.db.commitBound(s.before.bytes, false))
	if !s.adds && s.before.bytes > 0 {
		check = s.n.deletesCheck(s.db.commitBound(s.before.bytes, false), s.db.commitBound(s.before.bytes, true), s.before)
	}
	steps := append(s.n.markSteps(s.ddl), check, step{sql: "COMMIT"})
	_, _, err := s.run(ctx, s.conn.Conn().PgConn(), nil, nil, steps)
	s.end()
	if errors.Is(err, errOverBound) {
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
	s.conn, s.sized, s.before, s.adds, s.ddl = c, true, before, !deletes(query), ddl
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
