// Package pluginstore keeps a cluster's plugins in PostgreSQL, so that every
// Warden node on one database serves the same set: a plugins table in
// Warden's own schema holds each plugin's .wasm, its SHA-256 and the
// generation that last wrote it, and a one-row table holds the store's
// generation, which every write raises by one. A write notifies a channel
// on commit, and Watch turns notifications (and, as a fallback, polling of
// the generation) into calls of a function, which a node uses to load the
// current set.
package pluginstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
)

// Defaults of Config's zero fields.
const (
	// DefaultMaxConns is the default Config.MaxConns: deploys and syncs
	// are rare, and the listener has a connection of its own.
	DefaultMaxConns = 2
	// DefaultMaxPluginBytes is the default Config.MaxPluginBytes (64 MiB,
	// as host.DefaultMaxPluginBytes).
	DefaultMaxPluginBytes = 64 << 20
	// connectTimeout bounds a connection attempt when the URL sets no
	// connect_timeout, so that a vanished server (a failover) costs
	// seconds, not the TCP timeout.
	connectTimeout = 5 * time.Second
	// readTimeout bounds one read of the generation by Watch.
	readTimeout = 10 * time.Second
)

// Sentinels; wrapped with the plugin's name.
var (
	// ErrNotFound is the cause of a Get or Delete of a name the store
	// does not hold.
	ErrNotFound = errors.New("no stored plugin has this name")
	// ErrStale is the cause of a Put whose expected generation is no
	// longer the store's: another write came first.
	ErrStale = errors.New("the plugin store changed since it was read")
)

// Config configures Open.
type Config struct {
	// URL is the PostgreSQL URL (pgx's syntax, multi-host URLs included).
	URL string
	// Schema is Warden's own schema, which holds the tables; created if
	// missing. Required.
	Schema string
	// MaxConns bounds the pool of this store's connections, besides the
	// listener's. Default DefaultMaxConns.
	MaxConns int
	// MaxPluginBytes bounds one plugin's .wasm, which a connection reads
	// in one message. Default DefaultMaxPluginBytes.
	MaxPluginBytes int64
	// Logger receives Watch's errors.
	Logger zerolog.Logger
}

// Plugin is one stored plugin.
type Plugin struct {
	// Name is the plugin's name, SHA256 the hex SHA-256 of Wasm.
	Name, SHA256 string
	// Wasm is the plugin's .wasm: set by Get, nil in List.
	Wasm []byte
	// Size is the .wasm's length in bytes, set by List too: a node reads
	// no .wasm larger than its limit (see Config.MaxPluginBytes).
	Size int64
	// Manifest is the operator's manifest (NAME.toml) stored with the
	// plugin, nil when there is none.
	Manifest *string
	// Generation is the store generation that last wrote this plugin.
	Generation int64
	// UpdatedAt is when it was written.
	UpdatedAt time.Time
}

// Upload is one plugin to Put.
type Upload struct {
	Name string
	Wasm []byte
	// Manifest is stored with the plugin; nil stores none. A Put replaces
	// the whole row, manifest included.
	Manifest *string
}

// Store is a cluster's plugins in PostgreSQL. It is safe for concurrent
// use.
type Store struct {
	pool    *pgxpool.Pool
	log     zerolog.Logger
	schema  string // quoted
	channel string // the notification channel, unquoted
	plugins string // quoted table names
	gen     string
}

// Open connects to cfg.URL and creates the store's tables in cfg.Schema
// when they are missing; several nodes may open one database at once.
//
// # Errors
//
// An error when cfg.Schema is empty, the URL is malformed, the server
// cannot be reached or the tables cannot be created.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Schema == "" {
		return nil, errors.New("plugin store: no schema")
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxPluginBytes <= 0 {
		cfg.MaxPluginBytes = DefaultMaxPluginBytes
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("plugin store: %w", err)
	}
	pc.MaxConns = int32(cfg.MaxConns)
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = connectTimeout
	}
	pc.ConnConfig.MaxProtocolMessageBodyLen = int(cfg.MaxPluginBytes) + 1<<20
	pc.ConnConfig.RuntimeParams["application_name"] = "warden"
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("plugin store: %w", err)
	}
	q := pgx.Identifier{cfg.Schema}.Sanitize()
	s := &Store{
		pool: pool, log: cfg.Logger.With().Str("component", "pluginstore").Logger(),
		schema: q, channel: cfg.Schema + ".plugins",
		plugins: q + ".plugins", gen: q + ".plugins_generation",
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("plugin store: %w", err)
	}
	return s, nil
}

// migrate creates the schema and tables, under a transaction-scoped
// advisory lock so that nodes starting together do not race on CREATE.
func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		stmts := []string{
			`SELECT pg_advisory_xact_lock(hashtext('warden.pluginstore'))`,
			`CREATE SCHEMA IF NOT EXISTS ` + s.schema,
			`CREATE TABLE IF NOT EXISTS ` + s.plugins + ` (
				name       text PRIMARY KEY,
				wasm       bytea NOT NULL,
				sha256     text NOT NULL,
				generation bigint NOT NULL,
				manifest   text,
				updated_at timestamptz NOT NULL DEFAULT now()
			)`,
			`CREATE TABLE IF NOT EXISTS ` + s.gen + ` (
				one        boolean PRIMARY KEY DEFAULT true CHECK (one),
				generation bigint NOT NULL
			)`,
			`INSERT INTO ` + s.gen + ` VALUES (true, 0) ON CONFLICT DO NOTHING`,
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close closes the store's connections.
func (s *Store) Close() { s.pool.Close() }

// Generation returns the store's generation: 0 until the first write, then
// one more with each Put or Delete.
//
// # Errors
//
// The database's.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var g int64
	if err := s.pool.QueryRow(ctx, `SELECT generation FROM `+s.gen).Scan(&g); err != nil {
		return 0, fmt.Errorf("plugin store generation: %w", err)
	}
	return g, nil
}

// List returns every stored plugin without its .wasm, sorted by name, and
// the store's generation, as of one instant.
//
// # Errors
//
// The database's.
func (s *Store) List(ctx context.Context) ([]Plugin, int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT g.generation, p.name, p.sha256, p.manifest, p.generation, p.updated_at, octet_length(p.wasm)
		FROM `+s.gen+` g LEFT JOIN `+s.plugins+` p ON true ORDER BY p.name`)
	if err != nil {
		return nil, 0, fmt.Errorf("list plugins: %w", err)
	}
	defer rows.Close()
	var list []Plugin
	var gen int64
	for rows.Next() {
		var name, sum *string
		var p Plugin
		var pgen, size *int64
		var at *time.Time
		if err := rows.Scan(&gen, &name, &sum, &p.Manifest, &pgen, &at, &size); err != nil {
			return nil, 0, fmt.Errorf("list plugins: %w", err)
		}
		if name == nil { // the empty store's one row
			continue
		}
		p.Name, p.SHA256, p.Generation, p.UpdatedAt, p.Size = *name, *sum, *pgen, *at, *size
		list = append(list, p)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list plugins: %w", err)
	}
	return list, gen, nil
}

// Get returns the plugin called name, with its .wasm.
//
// # Errors
//
// ErrNotFound, or the database's.
func (s *Store) Get(ctx context.Context, name string) (Plugin, error) {
	p := Plugin{Name: name}
	err := s.pool.QueryRow(ctx, `SELECT wasm, sha256, manifest, generation, updated_at FROM `+s.plugins+` WHERE name = $1`, name).
		Scan(&p.Wasm, &p.SHA256, &p.Manifest, &p.Generation, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Plugin{}, fmt.Errorf("get plugin %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Plugin{}, fmt.Errorf("get plugin %s: %w", name, err)
	}
	p.Size = int64(len(p.Wasm))
	return p, nil
}

// Put stores uploads in one transaction, each replacing the plugin of its
// name, raises the generation by one and notifies the channel; it returns
// the new generation. With ifGeneration ≥ 0 it stores nothing unless the
// store's generation is still ifGeneration (a check-and-set); -1 skips the
// check.
//
// # Errors
//
// ErrStale when the generation moved, or the database's.
func (s *Store) Put(ctx context.Context, ifGeneration int64, uploads ...Upload) (int64, error) {
	var gen int64
	err := s.write(ctx, ifGeneration, func(tx pgx.Tx, g int64) error {
		gen = g
		for _, u := range uploads {
			sum := sha256.Sum256(u.Wasm)
			_, err := tx.Exec(ctx, `INSERT INTO `+s.plugins+` (name, wasm, sha256, generation, manifest, updated_at)
				VALUES ($1, $2, $3, $4, $5, now())
				ON CONFLICT (name) DO UPDATE SET wasm = EXCLUDED.wasm, sha256 = EXCLUDED.sha256,
					generation = EXCLUDED.generation, manifest = EXCLUDED.manifest, updated_at = now()`,
				u.Name, u.Wasm, hex.EncodeToString(sum[:]), g, u.Manifest)
			if err != nil {
				return fmt.Errorf("put plugin %s: %w", u.Name, err)
			}
		}
		return nil
	})
	return gen, err
}

// Delete removes the plugin called name, raises the generation by one and
// notifies the channel; it returns the new generation.
//
// # Errors
//
// ErrNotFound, or the database's.
func (s *Store) Delete(ctx context.Context, name string) (int64, error) {
	var gen int64
	err := s.write(ctx, -1, func(tx pgx.Tx, g int64) error {
		gen = g
		tag, err := tx.Exec(ctx, `DELETE FROM `+s.plugins+` WHERE name = $1`, name)
		if err != nil {
			return fmt.Errorf("delete plugin %s: %w", name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("delete plugin %s: %w", name, ErrNotFound)
		}
		return nil
	})
	return gen, err
}

// write runs fn in a transaction that holds the generation row's lock,
// with the generation it raised, then notifies the channel with it; the
// notification goes out on commit. With ifGeneration ≥ 0 it fails with
// ErrStale unless the generation was ifGeneration.
func (s *Store) write(ctx context.Context, ifGeneration int64, fn func(tx pgx.Tx, gen int64) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var gen int64
		if err := tx.QueryRow(ctx, `SELECT generation FROM `+s.gen+` FOR UPDATE`).Scan(&gen); err != nil {
			return fmt.Errorf("plugin store generation: %w", err)
		}
		if ifGeneration >= 0 && gen != ifGeneration {
			return fmt.Errorf("%w: generation %d, expected %d", ErrStale, gen, ifGeneration)
		}
		gen++
		if _, err := tx.Exec(ctx, `UPDATE `+s.gen+` SET generation = $1`, gen); err != nil {
			return fmt.Errorf("plugin store generation: %w", err)
		}
		if err := fn(tx, gen); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, fmt.Sprint(gen)); err != nil {
			return fmt.Errorf("notify %s: %w", s.channel, err)
		}
		return nil
	})
}
