package storage

import (
	"context"
	"database/sql"
	"fmt"
)

// Session runs one plugin call's statements. Outside a transaction each
// statement commits on its own; Begin opens a transaction on a connection
// the session keeps until Commit, Rollback or Close.
//
// A Session is not safe for concurrent use. Every statement is subject to
// the plugin policy (see ErrNotAllowed) and must be a single statement with
// positional parameters (?, ?NNN or $N) bound from nil, int64, float64,
// string or []byte.
type Session struct {
	db     *DB
	conn   *sql.Conn // the open transaction's connection, nil in autocommit
	write  bool      // the open transaction is a write transaction, inside the writer's group
	failed string    // why the open transaction failed, "" if it has not
	closed bool
}

// Exec runs a statement and returns the number of rows it inserted, updated
// or deleted (0 for other statements). Outside a transaction it runs on the
// writer connection.
//
// # Errors
//
// ErrNotAllowed, ErrBusy, ErrTxFailed, ErrReadOnly (a write in a read
// transaction), ErrClosed, a context error, or a *SQLError. Inside a
// transaction any error marks the transaction failed.
func (s *Session) Exec(ctx context.Context, query string, args []any) (rowsAffected int64, err error) {
	st, err := s.check(query, args)
	if err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	run := func(c *sql.Conn) error {
		return s.db.runPlugin(c, st, func(cs *connState, p *policy) (err error) {
			rowsAffected, err = execDriver(ctx, cs, p, st)
			return err
		})
	}
	if s.conn != nil {
		err = s.inTx(ctx, run)
	} else {
		err = s.groupWrite(ctx, run)
	}
	if err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	return rowsAffected, nil
}

// Query runs a statement and returns all its rows. Outside a transaction a
// SELECT, VALUES or WITH statement runs on a reader connection, and moves to
// the writer if SQLite refuses it there as a write (WITH ... INSERT); any
// other statement (INSERT ... RETURNING) runs on the writer.
//
// # Errors
//
// As Exec, and ErrLimit if the result has more than MaxRows rows or
// MaxResultBytes bytes.
func (s *Session) Query(ctx context.Context, query string, args []any) (*Rows, error) {
	st, err := s.check(query, args)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	var rows *Rows
	lim := limits{rows: s.db.opts.MaxRows, bytes: s.db.opts.MaxResultBytes}
	run := func(c *sql.Conn) error {
		return s.db.runPlugin(c, st, func(cs *connState, p *policy) (err error) {
			rows, err = queryDriver(ctx, cs, p, st, lim)
			return err
		})
	}
	switch {
	case s.conn != nil:
		err = s.inTx(ctx, run)
	case st.keyword == "SELECT" || st.keyword == "VALUES" || st.keyword == "WITH":
		err = s.autocommit(ctx, s.db.reader, run)
		if isNoMem(err) && ctx.Err() == nil {
			// The connection gave back its caches (connState.shrink): a
			// read with no transaction runs once more.
			err = s.autocommit(ctx, s.db.reader, run)
		}
		if isReadOnly(err) {
			err = s.groupWrite(ctx, run)
		}
	default:
		err = s.groupWrite(ctx, run)
	}
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return rows, nil
}

// Begin opens a transaction. A write transaction takes the writer, so it
// holds the write lock from the start, and runs inside the writer's group
// (see writer); a read transaction takes a reader connection and runs
// BEGIN, and sees one snapshot of the database from its first read.
//
// # Errors
//
// ErrTxOpen if a transaction is open; ErrBusy if no connection is free
// within BusyTimeout or SQLite stays busy; a context error if ctx ends
// first; ErrClosed.
func (s *Session) Begin(ctx context.Context, write bool) error {
	if err := s.usable(); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if s.conn != nil {
		return fmt.Errorf("begin: %w", ErrTxOpen)
	}
	if write {
		c, err := s.db.w.txBegin(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		s.conn, s.write, s.failed = c, true, ""
		return nil
	}
	c, err := s.db.acquire(ctx, s.db.reader)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
		s.db.release(c, true) // BEGIN may have run even if ctx ended
		return fmt.Errorf("begin: %w", classify(err))
	}
	s.conn, s.write, s.failed = c, false, ""
	return nil
}

// Commit commits the open transaction. Once ctx has been checked, COMMIT
// runs to completion regardless of ctx, so that an error always means the
// transaction did not commit. The transaction is over when Commit returns:
// if Commit fails, the transaction was rolled back.
//
// # Errors
//
// ErrNoTx; ErrTxFailed (the transaction was rolled back); a context error
// (rolled back); ErrClosed; ErrBusy (a write transaction rolled back with
// its group, see writer); or the error of COMMIT.
func (s *Session) Commit(ctx context.Context) error {
	if err := s.usable(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if s.conn == nil {
		return fmt.Errorf("commit: %w", ErrNoTx)
	}
	if s.failed != "" {
		failed := s.failed
		s.end(true)
		return fmt.Errorf("commit: %w: rolled back after: %s", ErrTxFailed, failed)
	}
	if err := ctx.Err(); err != nil {
		s.end(true)
		return fmt.Errorf("commit: rolled back: %w", err)
	}
	var err error
	if s.write {
		err = s.db.w.txCommit(ctx) // returns once the group committed
		s.conn, s.write, s.failed = nil, false, ""
	} else {
		_, err = s.conn.ExecContext(context.WithoutCancel(ctx), "COMMIT")
		err = classify(err)
		s.end(err != nil)
	}
	if err != nil {
		return fmt.Errorf("commit: rolled back: %w", err)
	}
	return nil
}

// Rollback rolls back the open transaction, failed or not. It ignores ctx,
// which may be done: the ROLLBACK runs under a short timeout of its own.
//
// # Errors
//
// ErrNoTx if no transaction is open, ErrClosed if the session is closed.
func (s *Session) Rollback(_ context.Context) error {
	if s.closed {
		return fmt.Errorf("rollback: %w", ErrClosed)
	}
	if s.conn == nil {
		return fmt.Errorf("rollback: %w", ErrNoTx)
	}
	s.end(true)
	return nil
}

// InTx reports whether a transaction is open.
func (s *Session) InTx() bool { return s.conn != nil }

// Close rolls back an open transaction and releases its connection. It is
// idempotent and safe to call after the call's context is done; afterwards
// every method but Close and InTx fails with ErrClosed.
//
// # Errors
//
// None; the error result is for io.Closer.
func (s *Session) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.conn != nil {
		s.end(true)
	}
	return nil
}

// usable returns ErrClosed if the session or its DB is closed.
func (s *Session) usable() error {
	if s.closed || s.db.closed.Load() {
		return ErrClosed
	}
	return nil
}

// check prepares a statement, refusing it in a failed transaction.
func (s *Session) check(query string, args []any) (*statement, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	if s.failed != "" {
		return nil, fmt.Errorf("%w: after: %s", ErrTxFailed, s.failed)
	}
	st, err := newStatement(query, args)
	if err == nil {
		err = checkStatement(st)
	}
	if err != nil {
		return nil, s.fail(err)
	}
	return st, nil
}

// inTx runs a statement on the transaction's connection and marks the
// transaction failed if it fails.
func (s *Session) inTx(ctx context.Context, run func(*sql.Conn) error) error {
	err := run(s.conn)
	if s.write && !s.db.w.txCheck(ctx) && err == nil {
		// The group's transaction was rolled back under this one.
		err = &SQLError{Msg: "the transaction was rolled back"}
	}
	if err != nil && !s.write && isReadOnly(err) {
		err = fmt.Errorf("%w: %s", ErrReadOnly, err.Error())
	}
	return s.fail(err)
}

// groupWrite runs an autocommit write, committed with a group of others (see
// writer).
func (s *Session) groupWrite(ctx context.Context, run func(*sql.Conn) error) error {
	if err := s.usable(); err != nil {
		return err
	}
	return s.db.w.write(ctx, run)
}

// autocommit runs a statement on a connection taken from pool.
func (s *Session) autocommit(ctx context.Context, pool *sql.DB, run func(*sql.Conn) error) error {
	c, err := s.db.acquire(ctx, pool)
	if err != nil {
		return err
	}
	defer s.db.release(c, false)
	return run(c)
}

// fail marks the open transaction failed with err, if err is not nil and
// the transaction has not failed already, and returns err.
func (s *Session) fail(err error) error {
	if err != nil && s.conn != nil && s.failed == "" {
		s.failed = err.Error()
	}
	return err
}

// end ends the open transaction, rolling it back if rollback is set, and
// returns its connection: a write transaction lets go of the writer.
func (s *Session) end(rollback bool) {
	if s.write {
		s.db.w.txRollback(context.Background())
	} else {
		s.db.release(s.conn, rollback)
	}
	s.conn, s.write, s.failed = nil, false, ""
}
