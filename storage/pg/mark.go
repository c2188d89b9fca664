package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/warden-rpc/warden/storage"
)

// The mark of a plugin's relations (see RATIONALE.md, "Each plugin's
// schema on PostgreSQL has a size bound").
//
// The size check at a write transaction's commit (size.go) lists the
// schema's relations through pg_depend under the transaction's
// SERIALIZABLE snapshot, so it does not see a table that another
// transaction of the plugin created and committed after that snapshot,
// however its files add up. So each bounded plugin has a mark: a sequence
// in Warden's schema markSchema, named as the plugin's schema, which holds
// the transaction ID of the last transaction that created a relation
// there. A sequence is not transactional: its value is the latest
// setval's, whatever the reader's snapshot.
//
//   - A write transaction that created a relation in the schema (a row of
//     pg_depend on it, or on one of its relations as an index's is, whose
//     xmin is the transaction's; a plugin has no savepoints, whose rows
//     would bear another ID: see createdSQL) sets the mark to its
//     own ID in its commit round trip, before its size check (markStmt, as
//     Warden's role: the plugin's may read the mark, never set it). It
//     holds the plugin's DDL lock from its first statement that changes
//     the schema to its end (Session.statement), so marks are set in the
//     order of those transactions, each after the previous one ended.
//   - Every write transaction's commit, before its size check, reads the
//     mark (markCheckStmt) and is refused with errDDLCommitted
//     (storage.ErrBusy: retry it; an autocommit statement is retried at
//     once) unless the mark is its own, or its transaction ended before
//     the snapshot: then every relation a transaction of the plugin
//     created and committed is in the snapshot (the earlier marks' ended
//     earlier still). A transaction that created a relation but did not
//     mark it (a statement the policy did not take for one that changes
//     the schema) is refused with errUnmarked: fail closed.
//
// Why this closes the hole: take a transaction C that creates a relation
// and a writer W. If W read the mark before C set it, all of W's writes
// were in the files before C's size check, which counts them (it measures
// the files, uncommitted rows included). If after, W read C's mark or a
// later one, and commits only if that one ended before W's snapshot, and
// so C did. Nothing waits on anything: a writer takes no lock for the
// mark, and a transaction that changes the schema without creating a
// relation (CREATE TABLE IF NOT EXISTS on a table that exists, as every
// node's warden_init runs at each load) sets nothing, so that a hot reload
// fails no write. A real new relation makes the plugin's transactions
// whose snapshot it missed fail once with storage.ErrBusy.
const markSchema = "warden_ddl"

// The statements of the mark, prepared on every connection with those of
// size.go (prepareSize), each with $1 the plugin's schema, quoted, and $2
// its mark, qualified and quoted (names.mark).
const (
	// markStmt, run as Warden's role in a transaction that changed the
	// schema, sets the mark to the transaction's ID if it created a
	// relation in the schema, unless the mark is of a transaction that
	// did not end before the snapshot: then it divides by zero.
	markStmt = "warden_mark"
	// markCheckStmt, run as the plugin's role before the size check of
	// every write transaction, divides by zero when the mark is neither
	// the transaction's nor of one that ended before its snapshot, and
	// overflows an integer when the transaction created a relation and
	// the mark is not its own.
	markCheckStmt = "warden_mark_check"
)

// markSQL is a FROM clause of one row, v, of the transaction's ID (x, NULL
// if it has written nothing) and the mark (m, NULL if never set).
const markSQL = " FROM (SELECT pg_catalog.pg_current_xact_id_if_assigned() AS x, pg_catalog.pg_sequence_last_value($2::pg_catalog.text::pg_catalog.regclass)::pg_catalog.text::pg_catalog.xid8 AS m) AS v"

// markedSQL is true when the mark is the transaction's own or of one that
// ended before its snapshot (or was never set).
const markedSQL = "(v.m IS NULL OR v.m OPERATOR(pg_catalog.=) v.x OR pg_catalog.pg_visible_in_snapshot(v.m, pg_catalog.pg_current_snapshot()))"

// createdSQL is true when the transaction created a relation in the
// schema $1: a row of pg_depend that the transaction wrote on the schema,
// or, for a relation or a constraint, on one of its relations (an index's
// on its table; a primary key's or unique constraint's, whose index's row
// is on the constraint; a TOAST table's). Not a view's rule's or a
// default's, so that CREATE OR REPLACE VIEW in warden_init marks nothing.
// An index is counted through its table (sizeSQL), but
// through the backend's relcache entry of the table, which PostgreSQL
// brings up to date only when the backend takes a new lock or misses a
// catalog cache: a writer that locked the table (and what the checks
// read) before another transaction's CREATE INDEX committed, and writes
// after that one's size check, would not count the index at its commit
// (TestSession_maxBytesIndexMissedByStaleCache). A CHECK or foreign key
// constraint added to a table marks too, which costs the plugin's writers
// in flight a retry, as a new table does.
const createdSQL = "(EXISTS (SELECT " + relationsSQL + " AND xmin OPERATOR(pg_catalog.=) v.x::pg_catalog.xid)" +
	" OR EXISTS (SELECT FROM pg_catalog.pg_depend AS d WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass" +
	" AND d.classid OPERATOR(pg_catalog.=) ANY ('{pg_catalog.pg_class, pg_catalog.pg_constraint}'::pg_catalog.regclass[]::pg_catalog.oid[])" +
	" AND d.xmin OPERATOR(pg_catalog.=) v.x::pg_catalog.xid AND d.refobjid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT objid " + relationsSQL + "))))"

// markStatements are markStmt and markCheckStmt, for prepareSize.
var markStatements = []struct{ name, sql string }{
	{markStmt, "SELECT 1 OPERATOR(pg_catalog./) " + markedSQL + "::pg_catalog.int4" +
		", pg_catalog.setval($2::pg_catalog.text::pg_catalog.regclass, v.x::pg_catalog.text::pg_catalog.int8)" +
		markSQL + " WHERE v.x IS NOT NULL AND " + createdSQL},
	{markCheckStmt, "SELECT CASE WHEN v.x IS NULL OR v.m OPERATOR(pg_catalog.=) v.x THEN 0" +
		" ELSE 1 OPERATOR(pg_catalog./) " + markedSQL + "::pg_catalog.int4 END" +
		", CASE WHEN v.x IS NULL OR v.m OPERATOR(pg_catalog.=) v.x THEN 0" +
		" ELSE 2147483647 OPERATOR(pg_catalog.+) " + createdSQL + "::pg_catalog.int4 END" + markSQL},
}

// stateOverflow is how markCheckStmt fails on an unmarked relation.
const stateOverflow = "22003" // numeric_value_out_of_range

var (
	// errDDLCommitted is how a write transaction's commit fails when a
	// transaction of the plugin that created a relation ended after its
	// snapshot, or has not ended: its size check could not count that
	// relation.
	errDDLCommitted = fmt.Errorf("%w: a table or sequence of the plugin was created by a transaction that committed while this one ran, which its size check cannot see: retry it", storage.ErrBusy)
	// errUnmarked is how a write transaction's commit fails when it
	// created a relation by a statement that Warden did not take for one
	// that changes the schema, and so did not mark.
	errUnmarked = fmt.Errorf("%w: the transaction created a relation by a statement that Warden does not take for one that changes the schema", storage.ErrNotAllowed)
)

// markSteps are the steps of a commit (see Session.run) before its size
// check: if ddl is set, markStmt as Warden's role between the plugin's;
// then markCheckStmt.
func (n *names) markSteps(ddl bool) []step {
	check := step{sql: markCheckStmt, args: n.markArgs, prepared: true, fails: errDDLCommitted, overflows: errUnmarked}
	if !ddl {
		return []step{check}
	}
	return []step{
		{sql: "SET LOCAL ROLE NONE"},
		{sql: markStmt, args: n.markArgs, prepared: true, fails: errDDLCommitted},
		{sql: n.setRole},
		check,
	}
}

// createMark creates the plugin's mark, owned by Warden's role, and its
// schema, if they are missing; the plugin's role may read the mark, not
// set it.
func createMark(ctx context.Context, tx pgx.Tx, n *names) error {
	for _, s := range []string{
		"CREATE SCHEMA IF NOT EXISTS " + quote(markSchema) + " AUTHORIZATION CURRENT_USER",
		"CREATE SEQUENCE IF NOT EXISTS " + n.mark,
		"GRANT USAGE ON SCHEMA " + quote(markSchema) + " TO " + quote(n.role),
		"GRANT SELECT ON SEQUENCE " + n.mark + " TO " + quote(n.role),
	} {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// step is one of Warden's statements in a pipeline (see Session.run): a
// prepared statement with args, or SQL; fails is what its division by
// zero means, overflows what its integer overflow means (nil for none).
type step struct {
	sql              string
	args             [][]byte
	prepared         bool
	fails, overflows error
}

// send adds st to pl.
func (st step) send(pl *pgconn.Pipeline) {
	if st.prepared {
		pl.SendQueryPrepared(st.sql, st.args, nil, nil)
		return
	}
	pl.SendQueryParams(st.sql, nil, nil, nil, nil)
}

// failed returns what err, the step's error, means.
func (st step) failed(err error) error {
	switch {
	case st.fails != nil && sqlState(err) == stateDivisionByZero:
		return st.fails
	case st.overflows != nil && sqlState(err) == stateOverflow:
		return st.overflows
	}
	return err
}
