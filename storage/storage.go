// Package storage is Warden's embedded SQLite database: database files in
// WAL mode, opened with modernc.org/sqlite (pure Go, no cgo). Databases is
// the boundary the host talks to: it hands each plugin a database of its
// own; Dir implements it with one file per plugin, and Warden's own tables
// live in a file of their own that no plugin connection opens.
//
// Plugins reach the database through a Session, one per plugin call, which
// runs single statements in autocommit mode or inside a transaction opened
// with Begin, under a policy enforced by SQLite's authorizer (see
// ErrNotAllowed). Values crossing the API are exactly nil, int64, float64,
// string and []byte. Warden's own tables (names starting with "warden_")
// are written through DB.Writer, read through DB.Reader and created by
// DB.Migrate.
//
// Writes are serialised in Go: the writer pool holds one connection, so
// writers queue for it instead of spinning on SQLITE_BUSY, and plugins'
// autocommit writes share COMMITs (group commit, see writer). Reads run on a
// separate pool of query_only connections and, thanks to WAL, never wait for
// the writer.
package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Defaults for the zero fields of Options.
const (
	// DefaultBusyTimeout is the default Options.BusyTimeout.
	DefaultBusyTimeout = 5 * time.Second
	// DefaultMaxReaders is the default Options.MaxReaders.
	DefaultMaxReaders = 4
	// DefaultMaxRows is the default Options.MaxRows.
	DefaultMaxRows = 10000
	// DefaultMaxResultBytes is the default Options.MaxResultBytes, 4 MiB.
	DefaultMaxResultBytes = 4 << 20
	// DefaultMaxPluginDBBytes is the server's default bound on one plugin's
	// SQLite database (Options.MaxBytes of its Dir), 1 GiB: far past what
	// a plugin's own data needs on one machine, and short of a disk that a
	// hostile plugin fills for every other plugin and the server itself.
	DefaultMaxPluginDBBytes = 1 << 30
)

// rollbackTimeout bounds a ROLLBACK run on behalf of a caller whose context
// may already be done.
const rollbackTimeout = 5 * time.Second

// Options configures Open. The zero value of each field selects its default.
type Options struct {
	// BusyTimeout is how long a call waits for a lock or a free connection
	// before failing with ErrBusy. Default 5s.
	BusyTimeout time.Duration
	// MaxReaders is the number of reader connections. Default 4.
	MaxReaders int
	// MaxRows is the most rows one Query may return. Default 10000.
	MaxRows int
	// MaxResultBytes is the most bytes one Query may return, counting TEXT
	// and BLOB lengths, and at least 8 for every value, NULL included
	// (ValueSize). Default 4 MiB.
	MaxResultBytes int
	// MaxBytes bounds the database file, in bytes (SQLite's max_page_count,
	// in pages of sqlitePageSize): a write that needs a page past it fails
	// with ErrLimit, and reads and deletes go on. 0 means no bound. A file
	// already larger is not cut, but grows no more.
	MaxBytes int64
	// MaxTempBytes bounds the temporary files of the database's connections
	// together, in bytes: the runs of a sort, DISTINCT and materialized
	// subqueries, transient indexes and statement journals, which SQLite
	// writes as it needs and deletes when the statement ends. A statement
	// whose temporary files would take them past it fails with ErrLimit.
	// 0 means no bound.
	MaxTempBytes int64
	// MaxMemoryBytes bounds the memory SQLite holds for the database's
	// connections together, in bytes: their page caches, prepared
	// statements and the values a statement builds. An allocation past it
	// fails, and with it the statement, with ErrLimit. 0 means no bound.
	// With a bound, a plugin statement's allocations also fail once its
	// context is done, which ends a long expression SQLite would not
	// interrupt (see connState.watch).
	MaxMemoryBytes int64
	// Observer, when set, is told of every group commit, for metrics.
	Observer CommitObserver
}

// sqlitePageSize is the page size of the databases Warden creates:
// SQLite's default, which no plugin can change (the policy refuses PRAGMA
// and VACUUM).
const sqlitePageSize = 4096

// DB is an open Warden database. It is safe for concurrent use.
type DB struct {
	path   string
	opts   Options
	writer *sql.DB   // one connection: every write goes through it
	reader *sql.DB   // MaxReaders query_only connections
	w      *writer   // plugins' autocommit writes, committed in groups
	conns  sync.Map  // driver connection -> *connState
	vfs    *boundVFS // bounds temporary files and memory (Options.MaxTempBytes, MaxMemoryBytes), or nil
	closed atomic.Bool
}

// Open opens or creates the database file at path in WAL mode.
//
// # Errors
//
// An error if an option is negative, the file cannot be opened, or the
// database cannot be switched to WAL mode.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("open: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := &DB{path: abs, opts: opts}
	if err := installHeap(); err != nil {
		return nil, fmt.Errorf("open %s: %w", abs, err)
	}
	vfs := ""
	if opts.MaxTempBytes > 0 || opts.MaxMemoryBytes > 0 {
		var heap *dbHeap
		if opts.MaxMemoryBytes > 0 {
			heap = newDBHeap(opts.MaxMemoryBytes)
		}
		if db.vfs, err = newBoundVFS(opts.MaxTempBytes, heap); err != nil {
			return nil, fmt.Errorf("open %s: %w", abs, err)
		}
		vfs = db.vfs.name
	}
	if db.writer, err = openPool(ctx, writerDSN(abs, opts, vfs), 1); err != nil {
		db.closeVFS()
		return nil, fmt.Errorf("open %s: %w", abs, err)
	}
	if err := checkWAL(ctx, db.writer); err != nil {
		db.closeVFS()
		return nil, errors.Join(fmt.Errorf("open %s: %w", abs, err), db.writer.Close())
	}
	if db.reader, err = openPool(ctx, readerDSN(abs, opts, vfs), opts.MaxReaders); err != nil {
		db.closeVFS()
		return nil, errors.Join(fmt.Errorf("open %s: %w", abs, err), db.writer.Close())
	}
	db.w = newWriter(db)
	return db, nil
}

// withDefaults fills in the zero fields of o.
func (o Options) withDefaults() (Options, error) {
	if o.BusyTimeout < 0 || o.MaxReaders < 0 || o.MaxRows < 0 || o.MaxResultBytes < 0 || o.MaxBytes < 0 || o.MaxTempBytes < 0 || o.MaxMemoryBytes < 0 {
		return o, fmt.Errorf("open: negative option in %+v", o)
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.MaxReaders == 0 {
		o.MaxReaders = DefaultMaxReaders
	}
	if o.MaxRows == 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.MaxResultBytes == 0 {
		o.MaxResultBytes = DefaultMaxResultBytes
	}
	return o, nil
}

// writerDSN is the DSN of the writer pool.
//
// synchronous=NORMAL in WAL mode syncs the WAL only at checkpoints: a commit
// survives a crash of the process (even SIGKILL), and only a power loss or
// OS crash can lose the last commits; the database is never corrupted.
// _txlock=immediate makes Writer().BeginTx take the write lock at BEGIN.
//
// With Options.MaxBytes, max_page_count bounds the file on every writer
// connection the pool opens (the setting is the connection's, not the
// file's); the readers are query_only and need none. journal_size_limit
// truncates the write-ahead log back to walLimit when it starts over (see
// walRoom).
func writerDSN(path string, o Options, vfs string) string {
	pragmas := []string{"journal_mode(WAL)", "synchronous(NORMAL)"}
	if o.MaxBytes > 0 {
		pragmas = append(pragmas,
			"max_page_count("+strconv.FormatInt(max(o.MaxBytes/sqlitePageSize, 1), 10)+")",
			"journal_size_limit("+strconv.FormatInt(o.walLimit(), 10)+")")
	}
	return dsn(path, o, vfs, pragmas...) + "&_txlock=immediate"
}

// readerDSN is the DSN of the reader pool. query_only makes SQLite refuse
// any write with SQLITE_READONLY; the policy refuses PRAGMA, so a plugin
// cannot turn it off.
func readerDSN(path string, o Options, vfs string) string {
	return dsn(path, o, vfs, "query_only(1)")
}

// dsn builds a modernc.org/sqlite URI for path with busy_timeout,
// foreign_keys and the given pragmas, opened through VFS vfs unless it is
// empty, in SQLite's defensive mode
// (SQLITE_DBCONFIG_DEFENSIVE, which the driver sets before anything runs on
// the connection): writable_schema stays off and sqlite_dbpage, the schema
// and virtual tables' shadow tables cannot be written directly.
func dsn(path string, o Options, vfs string, pragmas ...string) string {
	q := url.Values{}
	q.Add("_defensive", "1")
	if vfs != "" {
		q.Add("vfs", vfs)
	}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(ON)")
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// openPool opens a pool of at most n connections that are never closed for
// being idle, and opens one of them.
func openPool(ctx context.Context, dsn string, n int) (*sql.DB, error) {
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(0)
	pool.SetConnMaxLifetime(0)
	if err := pool.PingContext(ctx); err != nil {
		return nil, errors.Join(err, pool.Close())
	}
	return pool, nil
}

// checkWAL verifies that the database is in WAL mode.
func checkWAL(ctx context.Context, pool *sql.DB) error {
	var mode string
	if err := pool.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("journal_mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	return nil
}

// Close closes the database. Sessions still open fail with ErrClosed.
//
// # Errors
//
// The errors of closing the connection pools.
func (db *DB) Close() error {
	if db.closed.Swap(true) {
		return nil
	}
	db.w.close() // commits the writes waiting for a group commit
	db.forgetAll(db.reader)
	db.forgetAll(db.writer)
	err := errors.Join(db.reader.Close(), db.writer.Close())
	db.closeVFS()
	return err
}

// closeVFS unregisters the DB's VFS, if it has one.
func (db *DB) closeVFS() {
	if db.vfs != nil {
		db.vfs.close()
	}
}

// Engine returns the name of the database engine, "sqlite".
func (db *DB) Engine() string { return "sqlite" }

// Path returns the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// Writer returns the writer pool, for Warden's own tables and migrations.
//
// # Notes
//
// The pool has one connection, shared with plugin writes: hold it briefly,
// and close every Rows, Tx and Conn taken from it. Statements on it are not
// subject to the plugin policy. BeginTx on it runs BEGIN IMMEDIATE.
func (db *DB) Writer() *sql.DB { return db.writer }

// Reader returns the reader pool, for Warden's own reads.
//
// # Notes
//
// Its connections are query_only and, in WAL mode, never wait for the
// writer. Statements on it are not subject to the plugin policy. Close
// every Rows taken from it.
func (db *DB) Reader() *sql.DB { return db.reader }

// NewSession returns a Session for one plugin call. Close it when the call
// ends. On a closed DB every call on the session fails with ErrClosed.
func (db *DB) NewSession() *Session { return &Session{db: db} }

// acquire takes a connection from pool, waiting at most BusyTimeout.
//
// # Errors
//
// ErrBusy if none is free in time, ctx.Err() if ctx ends first, ErrClosed
// if db is closed.
func (db *DB) acquire(ctx context.Context, pool *sql.DB) (*sql.Conn, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	wctx, cancel := context.WithTimeout(ctx, db.opts.BusyTimeout)
	defer cancel()
	c, err := pool.Conn(wctx)
	switch {
	case err == nil:
		return c, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case db.closed.Load():
		return nil, ErrClosed
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("%w: no free connection within %s", ErrBusy, db.opts.BusyTimeout)
	}
	return nil, classify(err)
}

// release returns c to its pool. If c may be inside a transaction it is
// rolled back first, with a fresh context since the caller's may be done; if
// that fails for any reason but "no transaction is active", c is discarded,
// so that no connection goes back to the pool with a transaction open. A
// connection whose statement was interrupted is discarded too: the driver
// reports it unusable while SQLite's interrupt flag stays set, and
// database/sql would close it behind Warden's back. A connection about to
// be closed (discarded, or the DB is closed) is forgotten first: SQLite
// keeps a connection with prepared statements open, as a zombie, with its
// files and memory.
func (db *DB) release(c *sql.Conn, inTx bool) {
	discard := false
	if inTx {
		ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
		_, err := c.ExecContext(ctx, "ROLLBACK")
		cancel()
		discard = err != nil && !isNoTxError(err)
	}
	_ = c.Raw(func(dc any) error {
		discard = discard || interrupted(dc)
		if discard || db.closed.Load() {
			db.forget(dc)
		}
		if discard {
			return driver.ErrBadConn
		}
		return nil
	})
	_ = c.Close()
}
