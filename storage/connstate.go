package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/warden-rpc/warden/abi"
)

// maxPrepared bounds the plugin statements kept prepared per connection.
const maxPrepared = 128

// maxPreparedBytes bounds the memory of the statements a connection keeps
// prepared (SQLITE_DBSTATUS_STMT_USED): a statement's program grows with
// the views it expands, not with its text, so 128 statements of 64 KiB
// can keep gigabytes. A statement that takes more alone is run once and
// finalized.
const maxPreparedBytes = 8 << 20

// forgetWait is how long DB.Close waits for each pool's connections.
const forgetWait = 100 * time.Millisecond

// setLimits sets SQLite's limits (sqlite3_limit) on the connection of c to
// the ABI's, so that SQLite refuses an oversized value or statement with
// SQLITE_TOOBIG before it builds it: the longest TEXT, BLOB or row, the
// longest SQL text, the highest parameter number, the most arguments of
// one function call and the longest LIKE or GLOB pattern.
func setLimits(c *sql.Conn) error {
	for _, l := range [...]struct{ id, value int }{
		{sqlite3.SQLITE_LIMIT_LENGTH, abi.MaxValueBytes},
		{sqlite3.SQLITE_LIMIT_SQL_LENGTH, abi.MaxSQLBytes},
		{sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, abi.MaxSQLParams},
		{sqlite3.SQLITE_LIMIT_FUNCTION_ARG, abi.MaxSQLFunctionArgs},
		{sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, abi.MaxLikePatternBytes},
	} {
		if _, err := sqlite.Limit(c, l.id, l.value); err != nil {
			return fmt.Errorf("set limit %d: %w", l.id, err)
		}
	}
	return nil
}

// connState is what Warden keeps for one SQLite connection: its authorizer,
// installed once, and the plugin statements prepared on it.
//
// Installing an authorizer expires every prepared statement of the
// connection, so the authorizer stays installed for the connection's life
// and applies the policy of the plugin statement being prepared or run, or
// allows everything for Warden's own statements (policy nil). A cached
// statement keeps what the authorizer saw when it was prepared; when SQLite
// prepares it again after a schema change, the authorizer runs again under
// the running statement's policy.
//
// A connState is used only by the goroutine holding its connection.
type connState struct {
	dc         any
	policy     *policy
	stmts      map[string]*prepared   // plugin statements
	own        map[string]driver.Stmt // Warden's statements, never served to a plugin
	rolledBack bool                   // SQLite rolled back a transaction (set by the rollback hook)
	limited    bool                   // setLimits ran on the connection
	// heap is the connection's place in the allocator, when its
	// database's memory is bounded: a plugin statement's allocations fail
	// once its context is done (see connHeap and watch).
	heap *connHeap
}

// watch makes the allocations of the plugin statement about to run on the
// connection fail once ctx is done, until the returned function is called.
func (cs *connState) watch(ctx context.Context) (end func()) {
	if cs.heap == nil {
		return func() {}
	}
	return cs.heap.watch(ctx)
}

// prepared is a plugin statement prepared on one connection.
type prepared struct {
	ds    driver.Stmt
	wrote bool // the authorizer saw an INSERT, UPDATE or DELETE
	// once is set when the statement is not kept (see maxPreparedBytes):
	// whoever runs it closes it after.
	once bool
}

// release closes ps after its run if it was not kept.
func (ps *prepared) release() {
	if ps.once {
		_ = ps.ds.Close()
	}
}

// connState returns the state of driver connection dc, installing its
// authorizer and rollback hook on first use.
//
// # Errors
//
// When the driver has no authorizer or rollback hook, or installing fails.
func (db *DB) connState(dc any) (*connState, error) {
	if v, ok := db.conns.Load(dc); ok {
		return v.(*connState), nil
	}
	reg, ok := dc.(sqlite.AuthorizerRegisterer)
	hooks, ok2 := dc.(interface{ RegisterRollbackHook(sqlite.RollbackHookFn) })
	if !ok || !ok2 {
		return nil, fmt.Errorf("driver %T has no authorizer or rollback hook", dc)
	}
	cs := &connState{dc: dc, stmts: map[string]*prepared{}, own: map[string]driver.Stmt{}}
	if tls, _ := driverConn(dc); tls != nil {
		if v, ok := heapConns.Load(tls.ID); ok {
			cs.heap = v.(*connHeap)
		}
	}
	if err := reg.RegisterAuthorizer(cs.authorize); err != nil {
		return nil, fmt.Errorf("install authorizer: %w", err)
	}
	hooks.RegisterRollbackHook(func() { cs.rolledBack = true })
	db.conns.Store(dc, cs)
	return cs, nil
}

// limitedState returns the state of c's driver connection, setting
// SQLite's limits on the connection the first time (see setLimits): the
// driver sets them only through a *sql.Conn, outside Raw.
func (db *DB) limitedState(c *sql.Conn) (*connState, error) {
	var cs *connState
	err := c.Raw(func(dc any) (err error) {
		cs, err = db.connState(dc)
		return err
	})
	if err != nil || cs.limited {
		return cs, err
	}
	if err := setLimits(c); err != nil {
		return nil, err
	}
	cs.limited = true
	return cs, nil
}

// authorize is the connection's sqlite.AuthorizerFn.
func (cs *connState) authorize(action sqlite.AuthorizerActionCode, arg1, arg2, arg3, arg4 string) sqlite.AuthorizerReturnCode {
	if cs.policy == nil {
		return sqlite.AuthorizerOK // Warden's own statement
	}
	return cs.policy.authorize(action, arg1, arg2, arg3, arg4)
}

// prepare returns plugin statement text prepared on the connection, from
// the cache when it was prepared before, and sets p.wrote.
func (cs *connState) prepare(ctx context.Context, p *policy, text string) (*prepared, error) {
	if ps := cs.stmts[text]; ps != nil {
		p.wrote = ps.wrote
		return ps, nil
	}
	ds, err := prepareDriver(ctx, cs.dc, text)
	if err != nil && isNoMem(err) && ctx.Err() == nil {
		// The database's memory is taken, perhaps by this connection's
		// caches: they go, and the statement is prepared once more.
		cs.shrink()
		ds, err = prepareDriver(ctx, cs.dc, text)
	}
	if err != nil {
		return nil, err
	}
	if len(cs.stmts) >= maxPrepared {
		for k, old := range cs.stmts { // evicts one, whichever the map yields
			_ = old.ds.Close()
			delete(cs.stmts, k)
			break
		}
	}
	ps := &prepared{ds: ds, wrote: p.wrote}
	cs.stmts[text] = ps
	if cs.stmtBytes() > maxPreparedBytes {
		for k, old := range cs.stmts { // the others go first
			if k != text {
				_ = old.ds.Close()
				delete(cs.stmts, k)
			}
		}
		if cs.stmtBytes() > maxPreparedBytes {
			delete(cs.stmts, text)
			ps.once = true
		}
	}
	return ps, nil
}

// shrink gives back what the connection caches of its database's memory
// budget: its plugin statements are finalized, and SQLite frees what it
// can of its page cache (sqlite3_db_release_memory). The caches count
// against the budget (Options.MaxMemoryBytes) like a statement's working
// memory, and are never given back on their own: a plugin whose caches
// grew to its budget would be refused every statement until a restart.
// So a statement refused for memory shrinks its connection.
func (cs *connState) shrink() {
	for k, ps := range cs.stmts {
		_ = ps.ds.Close()
		delete(cs.stmts, k)
	}
	if tls, db := driverConn(cs.dc); tls != nil && db != 0 {
		sqlite3.Xsqlite3_db_release_memory(tls, db)
	}
}

// stmtBytes returns the memory of the connection's prepared statements,
// or 0 when the driver cannot tell.
func (cs *connState) stmtBytes() int {
	st, ok := cs.dc.(sqlite.DBStatus)
	if !ok {
		return 0
	}
	n, _, err := st.Status(sqlite.DBStatusStmtUsed, false)
	if err != nil {
		return 0
	}
	return n
}

// exec runs Warden's own statement text (BEGIN IMMEDIATE, COMMIT, the
// writer's savepoints) on the connection, prepared once. It runs with no
// policy.
func (cs *connState) exec(ctx context.Context, text string) error {
	ds := cs.own[text]
	if ds == nil {
		var err error
		if ds, err = prepareDriver(ctx, cs.dc, text); err != nil {
			return err
		}
		cs.own[text] = ds
	}
	_, err := ds.(driver.StmtExecContext).ExecContext(ctx, nil)
	return err
}

// checkDeferred returns a constraint error if the connection's transaction
// holds a deferred foreign-key violation (sqlite3_db_status
// SQLITE_DBSTATUS_DEFERRED_FKS), which would fail its COMMIT.
func (cs *connState) checkDeferred() error {
	st, ok := cs.dc.(sqlite.DBStatus)
	if !ok {
		return fmt.Errorf("driver %T has no sqlite3_db_status", cs.dc)
	}
	n, _, err := st.Status(sqlite.DBStatusDeferredFKs, false)
	switch {
	case err != nil:
		return fmt.Errorf("deferred foreign keys: %w", err)
	case n > 0:
		return errDeferredFK
	}
	return nil
}

// prepareDriver prepares text on driver connection dc.
func prepareDriver(ctx context.Context, dc any, text string) (driver.Stmt, error) {
	pc, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("driver %T cannot prepare", dc)
	}
	return pc.PrepareContext(ctx, text)
}

// interrupted reports whether SQLite's interrupt flag is set on driver
// connection dc (sqlite3_is_interrupted): a statement was interrupted and
// no other has started since.
func interrupted(dc any) bool {
	tls, h := driverConn(dc)
	return tls != nil && sqlite3.Xsqlite3_is_interrupted(tls, h) != 0
}

// forget drops the state of driver connection dc, which is being closed,
// finalizing its statements: SQLite keeps a connection with live
// statements open, and with it the WAL file.
func (db *DB) forget(dc any) {
	v, ok := db.conns.LoadAndDelete(dc)
	if !ok {
		return
	}
	cs := v.(*connState)
	for _, ps := range cs.stmts {
		_ = ps.ds.Close()
	}
	for _, ds := range cs.own {
		_ = ds.Close()
	}
	cs.stmts, cs.own = nil, nil
}

// forgetAll forgets the idle connections of pool before it is closed,
// taking them so that none is in use. A connection still in use is
// forgotten when its session releases it (see DB.release).
func (db *DB) forgetAll(pool *sql.DB) {
	ctx, cancel := context.WithTimeout(context.Background(), forgetWait)
	defer cancel()
	n := pool.Stats().OpenConnections
	held := make([]*sql.Conn, 0, n)
	for range n {
		c, err := pool.Conn(ctx)
		if err != nil {
			break
		}
		held = append(held, c)
	}
	for _, c := range held {
		_ = c.Raw(func(dc any) error {
			db.forget(dc)
			return nil
		})
		_ = c.Close()
	}
}
