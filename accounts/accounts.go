// Package accounts is Warden's user accounts and sessions, shaped after
// Nakama's so that unchanged Nakama clients can log in: users found or
// created by custom ID, device ID or email and password; session and
// refresh tokens issued, refreshed and revoked; and a limiter for failed
// authentication attempts and account creations per client address.
//
// Users and revocations live in Warden's own tables (warden_users,
// warden_user_devices, warden_session_revocations), created by New through
// the Store's Migrate: SQLite on one node, PostgreSQL's schema warden in a
// cluster, with the same SQL. Email passwords are stored as bcrypt hashes, computed
// and compared on a bounded number of workers. Refusals
// are *Error values carrying Nakama's gRPC code and message, which the HTTP
// API sends as they are.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/warden-rpc/warden/abi"
)

// Default token lifetimes, used for zero Config fields. Nakama's defaults
// are 60 s and 3600 s; 7200 s is what Nakama's own docker-compose file sets,
// and with 60 s nakama-js refreshes before every call.
const (
	DefaultSessionExpiry = 7200 * time.Second
	DefaultRefreshExpiry = 7 * 24 * time.Hour
)

// Errors. ErrRevoked reports a token whose session was logged out;
// SessionValid returns it, wrapped. ErrUnavailable reports that
// SessionValid could not tell, as the database was out of reach (a
// cluster node not hearing its Feed asks the database). The others are the causes of a refusal
// by the password hashing pool.
var (
	ErrRevoked        = errors.New("accounts: session revoked")
	ErrUnavailable    = errors.New("accounts: database unavailable")
	errHashQueueFull  = errors.New("accounts: password hashing queue full")
	errHashWait       = errors.New("accounts: waited too long for password hashing")
	errHashClientBusy = errors.New("accounts: the client has its share of password hashing in use")
)

// Config configures New. DB, EncryptionKey and RefreshKey are required.
type Config struct {
	// DB holds the accounts tables: a *storage.DB on one node, a *pg.Own in
	// a cluster.
	DB Store
	// Feed, in a cluster, carries revocations between the nodes (see
	// Service.Listen); nil on one node.
	Feed Feed
	// PollInterval, with a Feed, is how often the revocations are reloaded
	// whatever the Feed says, a fallback; DefaultPollInterval when zero.
	PollInterval time.Duration
	// EncryptionKey signs session tokens (Nakama's session.encryption_key).
	EncryptionKey []byte
	// RefreshKey signs refresh tokens (Nakama's
	// session.refresh_encryption_key). It must differ from EncryptionKey,
	// so that a refresh token is never accepted as a session token.
	RefreshKey []byte
	// SessionExpiry is the lifetime of a session token;
	// DefaultSessionExpiry when zero.
	SessionExpiry time.Duration
	// RefreshExpiry is the lifetime of a refresh token;
	// DefaultRefreshExpiry when zero.
	RefreshExpiry time.Duration
	// BcryptCost is the cost of new password hashes; bcrypt.DefaultCost
	// when zero.
	BcryptCost int
	// HashWorkers bounds the password hashes (at sign-up) and comparisons
	// (at login) that run at once; DefaultHashWorkers() when zero.
	HashWorkers int
	// HashQueue bounds the requests that wait for a hash worker; beyond it
	// a request is refused at once. DefaultHashQueuePerWorker per worker
	// when zero.
	HashQueue int
	// HashWait bounds the time a request waits for a hash worker;
	// DefaultHashWait when zero.
	HashWait time.Duration
	// HashPerClient bounds the requests of one client (Credentials.Client)
	// in the pool, running or waiting; DefaultHashPerClient when zero.
	HashPerClient int
	// Logger receives the service's logs.
	Logger zerolog.Logger
}

// Service manages accounts and sessions. It is safe for concurrent use.
//
// # Notes
//
// Revocations are kept in memory as well as in the database, so that
// checking a token costs no query. On one node the memory is the truth; in
// a cluster the Feed keeps it current (see Service.Listen), and while the
// Feed is not heard each check asks the database.
type Service struct {
	cfg Config
	log zerolog.Logger
	now func() time.Time

	hasher *hasher

	mu      sync.RWMutex
	revoked revocations
	// hearing is whether the in-memory revocations are current: always on
	// one node, only while the Feed listens in a cluster.
	hearing atomic.Bool

	// sessions queues the records of issued sessions (sessions.go).
	sessions sessionLog
}

// New returns a Service for cfg, creating or upgrading its tables and
// loading the revocations that have not expired.
//
// # Errors
//
// New fails when a required field is missing, the keys are equal, a
// duration, BcryptCost or a hashing bound is out of range, or the database
// cannot be migrated or read.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	s := &Service{
		cfg:    cfg,
		log:    cfg.Logger.With().Str("component", "accounts").Logger(),
		now:    time.Now,
		hasher: newHasher(cfg),
	}
	s.revoked = revocations{tokens: map[string]tokenRevocation{}, perUser: map[string]int{}, users: map[string]userRevocation{}}
	s.hearing.Store(cfg.Feed == nil)
	if err := cfg.DB.Migrate(ctx, slices.Concat(migrations, sessionMigrations)); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	if err := s.loadRevocations(ctx); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	return s, nil
}

// HashStats returns a snapshot of the service's password hashing.
func (s *Service) HashStats() HashStats { return s.hasher.stats() }

// setDefaults fills zero fields and checks the others.
func (c *Config) setDefaults() error {
	switch {
	case c.DB == nil:
		return errors.New("config: DB is required")
	case len(c.EncryptionKey) == 0 || len(c.RefreshKey) == 0:
		return errors.New("config: EncryptionKey and RefreshKey are required")
	case string(c.EncryptionKey) == string(c.RefreshKey):
		return errors.New("config: EncryptionKey and RefreshKey must differ")
	case c.SessionExpiry < 0 || c.RefreshExpiry < 0:
		return errors.New("config: expiries must not be negative")
	case c.BcryptCost != 0 && (c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost):
		return fmt.Errorf("config: BcryptCost %d is out of range", c.BcryptCost)
	case c.HashWorkers < 0 || c.HashQueue < 0 || c.HashWait < 0:
		return errors.New("config: HashWorkers, HashQueue and HashWait must not be negative")
	}
	if c.SessionExpiry == 0 {
		c.SessionExpiry = DefaultSessionExpiry
	}
	if c.RefreshExpiry == 0 {
		c.RefreshExpiry = DefaultRefreshExpiry
	}
	if c.SessionExpiry < time.Second || c.RefreshExpiry < time.Second {
		return errors.New("config: expiries must be at least a second")
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = bcrypt.DefaultCost
	}
	if c.HashWorkers == 0 {
		c.HashWorkers = DefaultHashWorkers()
	}
	if c.HashQueue == 0 {
		c.HashQueue = DefaultHashQueuePerWorker * c.HashWorkers
	}
	if c.HashWait == 0 {
		c.HashWait = DefaultHashWait
	}
	if c.HashPerClient == 0 {
		c.HashPerClient = DefaultHashPerClient
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	return nil
}

// Error is a refusal that reaches the client: a gRPC-style code and
// Nakama's message for it. Err, when set, is the cause, for logs only.
type Error struct {
	// Code is the gRPC code; its HTTP status follows from it.
	Code abi.Code
	// Msg is the message the client sees.
	Msg string
	// Err is the cause; it never reaches the client.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// refuse returns an *Error with code, msg and an optional cause.
func refuse(code abi.Code, msg string, cause error) *Error {
	return &Error{Code: code, Msg: msg, Err: cause}
}

// internal returns an internal *Error with Nakama's message msg, wrapping
// the cause so that it is logged.
func internal(msg string, cause error) *Error {
	return refuse(abi.CodeInternal, msg, cause)
}
