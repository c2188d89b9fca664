// Package pg is the PostgreSQL engine of storage.Databases: every plugin's
// data lives in one PostgreSQL database, each plugin in a schema of its own,
// plugin_<name>, owned by a NOLOGIN role of its own, so that several Warden
// nodes can share it.
//
// Warden connects as one role (the URL's) and runs every plugin statement
// inside a SERIALIZABLE transaction that starts with SET LOCAL ROLE to the
// plugin's role and SET LOCAL search_path to its schema; a statement outside
// a plugin transaction is wrapped in one of its own. A statement policy
// (policy.go) refuses, before anything is sent, every statement kind that
// could undo those settings or outlive the transaction (SET, RESET, COPY,
// LISTEN, DO, CREATE FUNCTION, transaction control, ...), and the role's
// privileges (it owns its schema and nothing else, and may use no
// procedural language) stop whatever the policy might miss. Statements are
// sent one at a time with the extended protocol, which refuses a second
// statement, each followed in the same round trip by a check that the
// transaction still runs as the plugin's role.
//
// Errors and values follow the storage package's contract (see
// storage.PluginSession and storage.Rows), so that the host serves plugins
// from either engine unchanged.
package pg

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// Engine is what DB.Engine returns.
const Engine = "postgres"

// Defaults for the zero fields of Options.
const (
	// DefaultMaxConns is the default Options.MaxConns.
	DefaultMaxConns = 8
	// DefaultStatementTimeout is the default Options.StatementTimeout.
	DefaultStatementTimeout = 30 * time.Second
	// idleInTxTimeout makes PostgreSQL end a session left idle inside a
	// transaction, a backstop for a node that died mid-transaction.
	idleInTxTimeout = "60s"
	// maxAttempts bounds how often an autocommit statement is run when
	// PostgreSQL answers it with a serialization failure or a deadlock.
	maxAttempts = 3
)

// Options configures Open. The zero value of each field selects its default.
type Options struct {
	// MaxConns is the size of the connection pool, shared by every plugin.
	// Default 8.
	MaxConns int
	// MaxConnsPerPlugin is the most connections of the pool one plugin
	// holds at once (its open transactions and running statements), so
	// that no plugin denies the others their databases. Default half of
	// MaxConns, at least 1.
	MaxConnsPerPlugin int
	// BusyTimeout is how long a call waits for a free connection, or a
	// statement for a row or table lock (PostgreSQL's lock_timeout), before
	// failing with storage.ErrBusy. Default storage.DefaultBusyTimeout.
	BusyTimeout time.Duration
	// StatementTimeout is PostgreSQL's statement_timeout for plugin
	// statements, a backstop behind the call's deadline. Default 30s.
	StatementTimeout time.Duration
	// MaxRows is the most rows one Query may return. Default
	// storage.DefaultMaxRows.
	MaxRows int
	// MaxResultBytes is the most bytes one Query may return, counting
	// values as SQLite's engine does (storage.ValueSize): TEXT and BYTEA
	// lengths, and at least 8 for every value, NULL included. Default
	// storage.DefaultMaxResultBytes.
	MaxResultBytes int
	// MaxRelations is the most relations (tables, indexes, views,
	// sequences) one plugin's schema may hold: a statement that changes
	// the schema past it fails with storage.ErrLimit and leaves nothing.
	// Default abi.MaxDBRelations.
	MaxRelations int
	// MaxTempFileBytes is PostgreSQL's temp_file_limit for plugin
	// transactions: the most temporary files (sorts and hashes that
	// outgrow work_mem) one connection writes at once; a statement that
	// writes more fails with storage.ErrLimit. Default
	// abi.MaxDBTempFileBytes.
	MaxTempFileBytes int64
	// MaxBytes bounds the plugin's schema on disk, in bytes: its tables,
	// their TOAST data and indexes, and its sequences and materialized
	// views, as pg_total_relation_size counts them. A write transaction
	// that takes the schema past it fails with storage.ErrLimit and is
	// rolled back; reads, deletes, and writes into room the schema
	// already has, up to an eighth past the bound, go on (size.go gives
	// the rule). 0 means no bound, as storage.Options.MaxBytes, whose
	// server default (storage.DefaultMaxPluginDBBytes) applies to both
	// engines.
	MaxBytes int64
}

// withDefaults fills in the zero fields of o.
func (o Options) withDefaults() (Options, error) {
	if o.MaxConns < 0 || o.MaxConnsPerPlugin < 0 || o.BusyTimeout < 0 || o.StatementTimeout < 0 || o.MaxRows < 0 || o.MaxResultBytes < 0 || o.MaxRelations < 0 || o.MaxTempFileBytes < 0 || o.MaxBytes < 0 {
		return o, fmt.Errorf("open: negative option in %+v", o)
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxRelations == 0 {
		o.MaxRelations = abi.MaxDBRelations
	}
	if o.MaxTempFileBytes == 0 {
		o.MaxTempFileBytes = abi.MaxDBTempFileBytes
	}
	if o.MaxConnsPerPlugin == 0 {
		o.MaxConnsPerPlugin = max(1, o.MaxConns/2)
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = storage.DefaultBusyTimeout
	}
	if o.StatementTimeout == 0 {
		o.StatementTimeout = DefaultStatementTimeout
	}
	if o.MaxRows == 0 {
		o.MaxRows = storage.DefaultMaxRows
	}
	if o.MaxResultBytes == 0 {
		o.MaxResultBytes = storage.DefaultMaxResultBytes
	}
	return o, nil
}

// DB is the PostgreSQL engine: a connection pool on one database that holds
// every plugin's schema. It implements storage.Databases and is safe for
// concurrent use.
type DB struct {
	pool   *pgxpool.Pool
	opts   Options
	dbName string // the database's name, part of every role name
	// tempLimit sets temp_file_limit in a plugin's transactions, before
	// its role (which may not): empty when Warden's role may not set it
	// either, and its sessions have a bound at least as tight
	// (tempFileLimit).
	tempLimit string
	// policy checks a plugin statement: checkPolicy, which tests replace
	// to reach the lines of defence behind it.
	policy func(query string) (ddl bool, err error)

	mu      sync.Mutex
	plugins map[string]*names // plugin -> its schema and role, once set up
	closed  bool
}

// Guard: DB fits the storage boundary.
var _ storage.Databases = (*DB)(nil)

// Open connects to the PostgreSQL database at url (a postgres:// URL or a
// key=value DSN, as pgx reads them) and prepares it for plugins (see
// harden).
//
// # Errors
//
// An error if an option is negative, url is malformed, the server cannot be
// reached, the connecting role may not harden the database, or its
// sessions would leave plugins' temporary files unbounded (tempFileLimit).
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	cfg.MaxConns = int32(opts.MaxConns)
	cfg.ConnConfig.MaxProtocolMessageBodyLen = maxMessageBytes(opts.MaxResultBytes)
	setConnDefaults(cfg.ConnConfig)
	cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = idleInTxTimeout
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error { return prepareSize(ctx, c.PgConn()) }
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db := &DB{pool: pool, opts: opts, plugins: map[string]*names{}, policy: checkPolicy}
	if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&db.dbName); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: %w", cfg.ConnConfig.Host, err)
	}
	if err := db.harden(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres database %s: %w", db.dbName, err)
	}
	if db.tempLimit, err = db.tempFileLimit(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres database %s: %w", db.dbName, err)
	}
	return db, nil
}

// maxMessageBytes bounds one message from the server: a row is one
// message, which pgx reads whole (by default up to 1 GiB) before Warden can
// count its values. A row within maxResult bytes takes at most twice that
// on the wire (BYTEA's hex form), plus each column's length word; a longer
// message fails the statement with storage.ErrLimit (see classify), and the
// connection, which cannot read on, is closed.
func maxMessageBytes(maxResult int) int { return 2*maxResult + 1<<20 }

// Engine returns "postgres".
func (db *DB) Engine() string { return Engine }

// ForPlugin returns plugin's database: its schema, created with its role on
// first use (see setUp). Every call returns a new handle; release each with
// Close.
//
// # Errors
//
// storage.ErrBadName, storage.ErrClosed once the DB is closed, or the
// error of creating the schema or role.
func (db *DB) ForPlugin(ctx context.Context, plugin string) (storage.PluginDB, error) {
	if err := storage.CheckPluginName(plugin); err != nil {
		return nil, err
	}
	db.mu.Lock()
	closed, n := db.closed, db.plugins[plugin]
	db.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("plugin %s database: %w", plugin, storage.ErrClosed)
	}
	if n == nil {
		var err error
		if n, err = db.setUp(ctx, plugin); err != nil {
			return nil, fmt.Errorf("plugin %s database: %w", plugin, err)
		}
		db.mu.Lock()
		db.plugins[plugin] = n
		db.mu.Unlock()
	}
	return &handle{db: db, n: n}, nil
}

// Close closes the pool; sessions fail with storage.ErrClosed afterwards.
// It is idempotent.
//
// # Notes
//
// Close waits until every connection in use is released: close the
// sessions (the host does, at the end of each call) first.
//
// # Errors
//
// None; the error result is for io.Closer.
func (db *DB) Close() error {
	db.mu.Lock()
	already := db.closed
	db.closed = true
	db.mu.Unlock()
	if !already {
		db.pool.Close()
	}
	return nil
}

// isClosed reports whether Close was called.
func (db *DB) isClosed() bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.closed
}

// handle is one handle on a plugin's schema.
type handle struct {
	db *DB
	n  *names
}

// NewSession returns a Session in the plugin's schema.
func (h *handle) NewSession() storage.PluginSession { return &Session{db: h.db, n: h.n} }

// Close releases the handle. The schema stays; so does the pool, which the
// DB shares between plugins.
func (h *handle) Close() error { return nil }
