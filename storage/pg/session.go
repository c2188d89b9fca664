package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// endTimeout bounds a COMMIT or ROLLBACK run on behalf of a caller whose
// context may be done.
const endTimeout = 10 * time.Second

// Session runs one plugin call's statements in the plugin's schema, as the
// plugin's role; it implements storage.PluginSession. Every statement runs
// inside a SERIALIZABLE transaction: the plugin's, opened with Begin, or
// one of its own that commits with it (autocommit). Every transaction
// starts by setting the role, the search_path and the statement timeout
// with SET LOCAL, which the policy keeps the plugin from undoing.
//
// A Session is not safe for concurrent use.
type Session struct {
	db     *DB
	n      *names
	conn   *pgxpool.Conn // the open transaction's connection, nil in autocommit
	failed string        // why the open transaction failed, "" if it has not
	// sized is set in a write transaction under Options.MaxBytes, which
	// measured before at its start; adds once one of its statements was
	// not a DELETE, TRUNCATE or DROP (see size.go).
	sized, adds bool
	// ddl is set once a statement of the open transaction changed the
	// schema: its commit marks the relations it created (see mark.go).
	ddl    bool
	before start
	closed bool
}

// Guard: Session fits the storage boundary.
var _ storage.PluginSession = (*Session)(nil)

// Exec runs a statement and returns the rows it inserted, updated or
// deleted (0 for other statements). Outside a transaction it runs in one
// of its own, run again (up to 3 times in all) when PostgreSQL reports a
// serialization failure or deadlock, since nothing of it was seen.
//
// # Errors
//
// storage.ErrNotAllowed (the policy, or a missing privilege),
// storage.ErrBusy, storage.ErrTxFailed, storage.ErrReadOnly,
// storage.ErrClosed, a context error, or a *storage.SQLError. Inside a
// transaction any error marks the transaction failed.
func (s *Session) Exec(ctx context.Context, query string, args []any) (int64, error) {
	n, _, err := s.statement(ctx, query, args, nil)
	if err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	return n, nil
}

// Query runs a statement and returns all its rows, as Exec does.
//
// # Errors
//
// As Exec, and storage.ErrLimit if the result has more than MaxRows rows
// or MaxResultBytes bytes.
func (s *Session) Query(ctx context.Context, query string, args []any) (*storage.Rows, error) {
	lim := &limits{rows: s.db.opts.MaxRows, bytes: s.db.opts.MaxResultBytes}
	_, rows, err := s.statement(ctx, query, args, lim)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return rows, nil
}

// statement checks and runs one plugin statement, in the open transaction
// or in one of its own.
//
// A statement that changes the schema first takes the plugin's DDL lock,
// a transaction-scoped advisory lock: PostgreSQL's CREATE TABLE IF NOT
// EXISTS run at once by two nodes (each running the plugin's warden_init)
// can both find no table, and one then fails on a duplicate key.
func (s *Session) statement(ctx context.Context, query string, args []any, lim *limits) (int64, *storage.Rows, error) {
	p, ddl, err := s.check(query, args)
	if err != nil {
		return 0, nil, err
	}
	if s.conn != nil {
		s.adds = s.adds || !deletes(query)
		s.ddl = s.ddl || ddl
		var pre []string
		if ddl {
			pre = []string{s.n.lockDDL}
		}
		n, rows, err := s.send(ctx, s.conn.Conn().PgConn(), pre, query, p, lim, ddl, false)
		return n, rows, s.fail(classify(ctx, err))
	}
	pre := s.n.setupRW
	if ddl {
		pre = append(pre[:len(pre):len(pre)], s.n.lockDDL)
	}
	for attempt := 1; ; attempt++ {
		n, rows, err := s.autocommit(ctx, pre, query, p, lim, ddl)
		if errors.Is(err, errOverBound) {
			s.n.over.Store(true)
			n, rows, err = s.retrySized(ctx, query, p, lim, ddl)
			return n, rows, classify(ctx, err)
		}
		if err == nil || !retryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			return n, rows, classify(ctx, err)
		}
	}
}

// autocommit runs one statement in a transaction of its own, in one round
// trip: Warden's statements pre (BEGIN and the setup), the statement, the
// role check and COMMIT (see send). If a step fails, PostgreSQL skips the
// rest up to the pipeline's Sync, and release rolls back.
func (s *Session) autocommit(ctx context.Context, pre []string, query string, p *params, lim *limits, ddl bool) (int64, *storage.Rows, error) {
	c, err := s.acquire(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer s.release(c)
	return s.send(ctx, c.Conn().PgConn(), pre, query, p, lim, ddl, true)
}

// errRoleChanged is the error of a statement after which the transaction
// no longer runs as the plugin's role.
var errRoleChanged = fmt.Errorf("%w: the statement changed the session's role", storage.ErrNotAllowed)

// errTooManyRelations is the error of a statement after which the plugin's
// schema would hold more relations than Options.MaxRelations.
var errTooManyRelations = fmt.Errorf("%w: the plugin's database would hold more tables, indexes, views and sequences than the limit (%d by default)", storage.ErrLimit, abi.MaxDBRelations)

// send runs one plugin statement on c in one pipeline, each step with the
// extended protocol: Warden's statements pre, the statement, the role
// check, the relation check if ddl is set, and, if commit is set, the mark
// and size checks (when Options.MaxBytes bounds the schema; see mark.go
// and size.go) and COMMIT (names.steps).
// The role check fails, and with it the transaction, unless the statement
// left the transaction in the plugin's role: a second line behind the
// policy, which refuses every statement that could change the role (see
// RATIONALE.md). Since the check fails before COMMIT and before the
// plugin's next statement, nothing runs or commits in another identity,
// and the statement's rows are not returned. The relation check fails the
// same way when a statement that changes the schema left it with more
// relations than Options.MaxRelations, and the size check when the
// statement wrote and left the schema over Options.MaxBytes
// (errOverBound; see size.go).
func (s *Session) send(ctx context.Context, c *pgconn.PgConn, pre []string, query string, p *params, lim *limits, ddl, commit bool) (int64, *storage.Rows, error) {
	return s.run(ctx, c, pre, &pluginStmt{query: query, p: p, lim: lim}, s.n.steps(ddl, commit))
}

// pluginStmt is a plugin's statement, its arguments and the limits on its
// result.
type pluginStmt struct {
	query string
	p     *params
	lim   *limits
}

// run sends on c, in one pipeline, Warden's statements pre, the plugin's
// statement st if it is not nil, and steps, and returns what st returned.
// A step's error is what it means (step.failed). If a step fails,
// PostgreSQL skips the rest, and the transaction is failed.
func (s *Session) run(ctx context.Context, c *pgconn.PgConn, pre []string, st *pluginStmt, steps []step) (int64, *storage.Rows, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pl := c.StartPipeline(ctx)
	for _, q := range pre {
		pl.SendQueryParams(q, nil, nil, nil, nil)
	}
	first := len(pre) // the first step's result
	if st != nil {
		pl.SendQueryParams(st.query, st.p.values, st.p.oids, st.p.formats, nil)
		first++
	}
	for _, step := range steps {
		step.send(pl)
	}
	err := pl.Sync()
	var n int64
	var rows *storage.Rows
	for i := 0; err == nil && i < first+len(steps); i++ {
		var res any
		if res, err = pl.GetResults(); err != nil {
			break
		}
		rr, ok := res.(*pgconn.ResultReader)
		switch {
		case !ok:
			err = fmt.Errorf("pipeline: unexpected %T", res)
		case st != nil && i == len(pre):
			n, rows, err = collect(rr, st.lim, cancel)
		default:
			if _, err = rr.Close(); err != nil && i >= first {
				err = steps[i-first].failed(err)
			}
		}
	}
	if cerr := pl.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, nil, err
	}
	return n, rows, nil
}

// Begin opens a SERIALIZABLE transaction, READ WRITE if write is set, else
// READ ONLY. Unlike SQLite's, a write transaction takes no lock at Begin:
// conflicts with other transactions surface later, at a statement or at
// Commit, as storage.ErrBusy.
//
// # Errors
//
// storage.ErrTxOpen, storage.ErrBusy (no free connection within
// BusyTimeout), a context error, storage.ErrClosed, or a
// *storage.SQLError.
func (s *Session) Begin(ctx context.Context, write bool) error {
	if err := s.usable(); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if s.conn != nil {
		return fmt.Errorf("begin: %w", storage.ErrTxOpen)
	}
	c, err := s.acquire(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	begin, sized, before := s.n.beginRO, write && s.db.opts.MaxBytes > 0, start{}
	if write {
		begin = s.n.beginRW
	}
	if sized && s.n.over.Load() { // else the bound alone decides (see size.go)
		before, err = s.beginSized(ctx, c.Conn().PgConn())
	} else {
		err = simple(ctx, c.Conn().PgConn(), begin)
	}
	if err != nil {
		s.release(c)
		return fmt.Errorf("begin: %w", classify(ctx, err))
	}
	s.conn, s.failed, s.sized, s.before, s.adds, s.ddl = c, "", sized, before, false, false
	return nil
}

// Commit commits the open transaction, unless it wrote and grew the
// plugin's schema past Options.MaxBytes (see size.go). Once ctx has been
// checked, COMMIT
// runs to completion regardless of ctx, so that an error means the
// transaction did not commit. The transaction is over when Commit returns.
//
// # Errors
//
// storage.ErrNoTx; storage.ErrTxFailed (rolled back); a context error
// (rolled back); storage.ErrLimit when the transaction grew the schema past
// Options.MaxBytes (rolled back); storage.ErrClosed; storage.ErrBusy when PostgreSQL
// refused the commit as a serialization failure (retry the transaction);
// or a *storage.SQLError.
func (s *Session) Commit(ctx context.Context) error {
	if err := s.usable(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if s.conn == nil {
		return fmt.Errorf("commit: %w", storage.ErrNoTx)
	}
	if s.failed != "" {
		failed := s.failed
		s.end()
		return fmt.Errorf("commit: %w: rolled back after: %s", storage.ErrTxFailed, failed)
	}
	if err := ctx.Err(); err != nil {
		s.end()
		return fmt.Errorf("commit: rolled back: %w", err)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endTimeout)
	var err error
	if s.sized {
		err = s.commitSized(cctx)
	} else {
		err = simple(cctx, s.conn.Conn().PgConn(), "COMMIT")
		s.end()
	}
	cancel()
	if err != nil {
		return fmt.Errorf("commit: rolled back: %w", classify(context.Background(), err))
	}
	return nil
}

// Rollback rolls back the open transaction, failed or not. It ignores ctx,
// which may be done.
//
// # Errors
//
// storage.ErrNoTx if no transaction is open, storage.ErrClosed if the
// session is closed.
func (s *Session) Rollback(_ context.Context) error {
	if s.closed {
		return fmt.Errorf("rollback: %w", storage.ErrClosed)
	}
	if s.conn == nil {
		return fmt.Errorf("rollback: %w", storage.ErrNoTx)
	}
	s.end()
	return nil
}

// InTx reports whether a transaction is open.
func (s *Session) InTx() bool { return s.conn != nil }

// Close rolls back an open transaction and releases its connection. It is
// idempotent; afterwards every method but Close and InTx fails with
// storage.ErrClosed.
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
		s.end()
	}
	return nil
}

// usable returns storage.ErrClosed if the session or its DB is closed.
func (s *Session) usable() error {
	if s.closed || s.db.isClosed() {
		return storage.ErrClosed
	}
	return nil
}

// check applies the policy to a statement and encodes its arguments,
// refusing it in a failed transaction. It reports whether the statement
// changes the schema.
func (s *Session) check(query string, args []any) (*params, bool, error) {
	if err := s.usable(); err != nil {
		return nil, false, err
	}
	if s.failed != "" {
		return nil, false, fmt.Errorf("%w: after: %s", storage.ErrTxFailed, s.failed)
	}
	ddl, err := s.db.policy(query)
	var p *params
	if err == nil {
		p, err = encodeArgs(args)
	}
	return p, ddl, s.fail(err)
}

// fail marks the open transaction failed with err, if err is not nil and
// the transaction has not failed already, and returns err.
func (s *Session) fail(err error) error {
	if err != nil && s.conn != nil && s.failed == "" {
		s.failed = err.Error()
	}
	return err
}

// end ends the open transaction, rolling it back unless it committed, and
// releases its connection.
func (s *Session) end() {
	s.release(s.conn)
	s.conn, s.failed, s.sized, s.ddl = nil, "", false, false
}

// acquire takes one of the plugin's connection slots, then a connection
// from the pool, waiting at most BusyTimeout for both. Release it with
// s.release.
//
// # Errors
//
// storage.ErrBusy if none is free in time, ctx.Err() if ctx ends first,
// storage.ErrClosed if the DB is closed.
func (s *Session) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if s.db.isClosed() {
		return nil, storage.ErrClosed
	}
	wctx, cancel := context.WithTimeout(ctx, s.db.opts.BusyTimeout)
	defer cancel()
	select {
	case s.n.conns <- struct{}{}:
	case <-wctx.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: the plugin holds its %d of the pool's connections and none came free within %s",
			storage.ErrBusy, cap(s.n.conns), s.db.opts.BusyTimeout)
	}
	c, err := s.db.pool.Acquire(wctx)
	if err != nil {
		<-s.n.conns
	}
	switch {
	case err == nil:
		return c, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case s.db.isClosed():
		return nil, storage.ErrClosed
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("%w: no free connection within %s", storage.ErrBusy, s.db.opts.BusyTimeout)
	}
	return nil, classify(ctx, err)
}

// release releases c as release does, and the plugin's slot acquire took
// with it.
func (s *Session) release(c *pgxpool.Conn) {
	release(c)
	<-s.n.conns
}

// release rolls back the transaction c may still be in, with a context of
// its own, and returns c to the pool, which discards it if it is closed or
// still inside a transaction.
func release(c *pgxpool.Conn) {
	pc := c.Conn().PgConn()
	if !pc.IsClosed() && pc.TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), endTimeout)
		_ = simple(ctx, pc, "ROLLBACK")
		cancel()
	}
	c.Release()
}

// simple runs Warden's own statements (never a plugin's) with the simple
// protocol, which takes several at once.
func simple(ctx context.Context, c *pgconn.PgConn, sql string) error {
	_, err := c.Exec(ctx, sql).ReadAll()
	return err
}
