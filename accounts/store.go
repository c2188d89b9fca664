package accounts

import (
	"context"
	"database/sql"
	"errors"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// Store is the database of the accounts tables. *storage.DB (SQLite, one
// node) and *pg.Own (PostgreSQL, shared by the nodes of a cluster)
// implement it. The service runs the same portable SQL on both, with $N
// placeholders, which SQLite reads too.
type Store interface {
	// Reader returns the pool for lookups.
	Reader() *sql.DB
	// Writer returns the pool for writes (SQLite's single writer).
	Writer() *sql.DB
	// Migrate applies the migrations not yet applied.
	Migrate(ctx context.Context, migrations []storage.Migration) error
}

// sharedStore is implemented by a Store that several nodes share: their
// writes may conflict, and the database may be out of reach for a while.
// On SQLite neither happens (one writer, one process), and the Store need
// not implement it.
type sharedStore interface {
	// Conflict reports whether err is a unique or primary key violation.
	Conflict(err error) bool
	// Unavailable reports whether err means that the database could not be
	// reached.
	Unavailable(err error) bool
}

// Feed carries revocations between the nodes that share a Store; *pg.Own
// implements it with LISTEN/NOTIFY. A single node has none.
type Feed interface {
	// Notify sends payload on channel when tx commits.
	Notify(ctx context.Context, tx *sql.Tx, channel, payload string) error
	// Listen tells l about channel's notifications until ctx is done.
	Listen(ctx context.Context, channel string, l storage.Listener)
}

// conflict reports whether err is a write that lost a race with another
// node's.
func (s *Service) conflict(err error) bool {
	sh, ok := s.cfg.DB.(sharedStore)
	return ok && err != nil && sh.Conflict(err)
}

// unavailable turns an internal refusal whose cause is an unreachable
// database into UNAVAILABLE (503, code 14), with the same message, so that
// a client knows to retry; other errors pass unchanged.
func (s *Service) unavailable(err error) error {
	sh, ok := s.cfg.DB.(sharedStore)
	var e *Error
	if ok && errors.As(err, &e) && e.Code == abi.CodeInternal && sh.Unavailable(e.Err) {
		return refuse(abi.CodeUnavailable, e.Msg, e.Err)
	}
	return err
}
