package pg

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/warden-rpc/warden/storage"
)

// OwnSchema is the schema of Warden's own tables (accounts, sessions) in a
// cluster's database. Warden's role owns it and grants nothing on it, so
// no plugin role reaches it.
const OwnSchema = "warden"

// Defaults of Own's connections.
const (
	// ownMaxConns bounds Own's pool; accounts need few connections.
	ownMaxConns = 4
	// DefaultConnectTimeout bounds a connection attempt when the URL sets
	// no connect_timeout, so that a call fails fast while the server is
	// away rather than waiting for its deadline.
	DefaultConnectTimeout = 2 * time.Second
	// listenRetry is how long Listen waits before listening again after a
	// loss.
	listenRetry = 200 * time.Millisecond
	// keepAlive is the TCP keep-alive period of Own's connections, so that
	// a listening connection to a vanished host fails in time.
	keepAlive = 5 * time.Second
)

// ownLockKey is the advisory lock that serialises migrations of Warden's
// own tables between nodes starting at once.
const ownLockKey = setupLockKey + 1

// Own is Warden's own tables on PostgreSQL, in the schema OwnSchema: a
// database/sql pool through pgx's stdlib driver, whose search_path is that
// schema, so that the accounts service runs the same portable SQL as on
// SQLite; and LISTEN/NOTIFY between nodes. It is safe for concurrent use.
type Own struct {
	pool *pgxpool.Pool
	db   *sql.DB
	conn *pgx.ConnConfig // for Listen's dedicated connection
}

// OpenOwn connects to the database at url and creates the schema
// OwnSchema, with a domain blob over bytea (so that portable DDL's BLOB
// means the same on both engines), if they are missing.
//
// # Errors
//
// An error if url is malformed, the server cannot be reached, or the
// schema cannot be created.
func OpenOwn(ctx context.Context, url string) (*Own, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	setConnDefaults(cfg.ConnConfig)
	cfg.ConnConfig.RuntimeParams["search_path"] = OwnSchema
	cfg.MaxConns = ownMaxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	o := &Own{pool: pool, db: stdlib.OpenDBFromPool(pool), conn: cfg.ConnConfig.Copy()}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(ownLockKey)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+quote(OwnSchema)+" AUTHORIZATION CURRENT_USER"); err != nil {
			return err
		}
		var missing bool
		err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace s ON s.oid = t.typnamespace
			WHERE s.nspname = $1 AND t.typname = 'blob')`, OwnSchema).Scan(&missing)
		if err == nil && missing {
			_, err = tx.Exec(ctx, "CREATE DOMAIN "+quote(OwnSchema)+".blob AS bytea")
		}
		return err
	})
	if err != nil {
		_ = o.Close()
		return nil, fmt.Errorf("open postgres: schema %s: %w", OwnSchema, err)
	}
	return o, nil
}

// setConnDefaults bounds connection attempts and keeps idle connections
// probed.
func setConnDefaults(c *pgx.ConnConfig) {
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	d := &net.Dialer{KeepAlive: keepAlive}
	c.DialFunc = d.DialContext
	c.RuntimeParams["application_name"] = "warden"
}

// Reader returns the pool for reads; on PostgreSQL it is the Writer.
func (o *Own) Reader() *sql.DB { return o.db }

// Writer returns the pool for writes.
func (o *Own) Writer() *sql.DB { return o.db }

// Conflict reports whether err is a unique or primary key violation: two
// nodes created the same row at once.
func (o *Own) Conflict(err error) bool { return sqlState(err) == "23505" }

// Unavailable reports whether err means that the server could not be
// reached (see Unavailable).
func (o *Own) Unavailable(err error) bool { return Unavailable(err) }

// Migrate applies, in order, the migrations not yet recorded in
// warden_schema_migrations (in OwnSchema), each in its own transaction with
// its record, under an advisory lock, so that nodes starting at once apply
// each migration once. Running it again is a no-op.
//
// # Errors
//
// An error if the versions are not positive and increasing, or a migration
// fails; it is rolled back and the ones before it stay applied.
func (o *Own) Migrate(ctx context.Context, migrations []storage.Migration) error {
	for i, m := range migrations {
		if m.Version <= 0 || (i > 0 && m.Version <= migrations[i-1].Version) {
			return fmt.Errorf("migrate: version %d (%s) is not positive and increasing", m.Version, m.Name)
		}
	}
	for _, m := range migrations {
		err := pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(ownLockKey)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS warden_schema_migrations (
	version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
				return err
			}
			var applied bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM warden_schema_migrations WHERE version = $1)", m.Version).Scan(&applied); err != nil || applied {
				return err
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO warden_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
				m.Version, m.Name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %d %s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// Notify sends payload on channel when tx commits, and never if it rolls
// back (PostgreSQL's pg_notify is transactional).
//
// # Errors
//
// PostgreSQL's, such as a payload over 8000 bytes.
func (o *Own) Notify(ctx context.Context, tx *sql.Tx, channel, payload string) error {
	if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// Listen listens on channel on a connection of its own until ctx is done,
// and tells l (see storage.Listener): Sync once listening, Message for each
// notification, Lost when the connection fails; it then connects and
// listens again, every listenRetry until it succeeds. It returns when ctx
// is done.
func (o *Own) Listen(ctx context.Context, channel string, l storage.Listener) {
	for {
		err := o.listen(ctx, channel, l)
		if ctx.Err() != nil {
			return
		}
		l.Lost(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(listenRetry):
		}
	}
}

// listen listens once, until the connection, l or ctx fails.
func (o *Own) listen(ctx context.Context, channel string, l storage.Listener) error {
	c, err := pgx.ConnectConfig(ctx, o.conn.Copy())
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	if _, err := c.Exec(ctx, "LISTEN "+quote(channel)); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := l.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	for {
		n, err := c.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		if err := l.Message(n.Payload); err != nil {
			return fmt.Errorf("notification: %w", err)
		}
	}
}

// Close closes the pool. It is idempotent.
func (o *Own) Close() error {
	err := o.db.Close()
	o.pool.Close()
	return err
}
