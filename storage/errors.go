package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors. Callers branch on them with errors.Is; the error returned
// wraps the sentinel together with the cause, so the message keeps SQLite's
// text. Each is a sentinelError, which is how classify knows an error as the
// package's own: a new sentinel must be one too (errors_test.go checks).
var (
	// ErrBusy reports that the database was busy: SQLite answered
	// SQLITE_BUSY or SQLITE_LOCKED, or no connection became free within
	// Options.BusyTimeout. The call may be retried; it is not an SQL error.
	ErrBusy error = sentinelError("storage: database is busy")

	// ErrTxFailed reports that a statement failed earlier in the open
	// transaction. As in PostgreSQL, the transaction refuses every further
	// statement, and Commit, until it is rolled back; Commit of a failed
	// transaction rolls it back and returns ErrTxFailed.
	ErrTxFailed error = sentinelError("storage: transaction failed, roll it back")

	// ErrTxOpen reports a Begin while a transaction is already open.
	ErrTxOpen error = sentinelError("storage: transaction already open")

	// ErrNoTx reports a Commit or Rollback with no open transaction.
	ErrNoTx error = sentinelError("storage: no open transaction")

	// ErrReadOnly reports a write attempted inside a read transaction.
	ErrReadOnly error = sentinelError("storage: write in a read-only transaction")

	// ErrLimit reports a Query result over Options.MaxRows or
	// Options.MaxResultBytes (no partial result is returned), or a value,
	// row or statement over SQLite's limits (SQLITE_TOOBIG; see
	// abi.MaxValueBytes and abi.MaxSQLBytes).
	ErrLimit error = sentinelError("storage: limit exceeded")

	// ErrNotAllowed reports a statement refused by policy before it ran:
	// ATTACH, DETACH, PRAGMA, VACUUM, load_extension, temporary objects,
	// transaction control outside Begin/Commit/Rollback, any database but
	// "main", SQLite's own tables but the schema and sqlite_sequence,
	// virtual table modules but fts5, and any access to Warden's own
	// tables (names starting with "warden_").
	ErrNotAllowed error = sentinelError("storage: statement not allowed")

	// ErrClosed reports use of a closed Session or DB.
	ErrClosed error = sentinelError("storage: closed")

	// ErrBadName reports a plugin name that cannot name a database (see
	// CheckPluginName).
	ErrBadName error = sentinelError("storage: bad plugin name")
)

// sentinelError is the type of the package's sentinel errors.
type sentinelError string

// Error returns the sentinel's message.
func (e sentinelError) Error() string { return string(e) }

// SQLError is any SQL failure that is not one of the sentinel errors: a
// syntax error, a constraint violation, an unknown table, a bad argument.
type SQLError struct {
	// Msg is the message SQLite (or the driver) gave.
	Msg string
	// Err is the underlying error, usually a *sqlite.Error; it may be nil.
	Err error
}

// Error returns the SQLite message.
func (e *SQLError) Error() string { return e.Msg }

// Unwrap returns the underlying error.
func (e *SQLError) Unwrap() error { return e.Err }

// errDeferredFK is the failure of a write that leaves a deferred foreign
// key violated when it would commit: an autocommit statement at its end, a
// write transaction at Commit. It is undone alone (see writer.apply).
var errDeferredFK = &SQLError{Msg: "FOREIGN KEY constraint failed: a deferred foreign key is still violated at commit"}

// classify maps a driver error onto the package's error vocabulary.
// Context errors are returned as they are, so errors.Is(err,
// context.DeadlineExceeded) holds for a call that ran out of time.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isOwn(err) {
		return err
	}
	var se codedError
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %w", ErrBusy, err)
		case sqlite3.SQLITE_AUTH:
			return fmt.Errorf("%w: %w", ErrNotAllowed, err)
		case sqlite3.SQLITE_TOOBIG:
			return fmt.Errorf("%w: %w", ErrLimit, err)
		case sqlite3.SQLITE_NOMEM: // Options.MaxMemoryBytes, or the process's memory
			return fmt.Errorf("%w: the statement needs more memory than the database may hold: %w", ErrLimit, err)
		case sqlite3.SQLITE_FULL: // Options.MaxBytes or MaxTempBytes, or the disk itself
			return fmt.Errorf("%w: the database or its temporary files are full: %w", ErrLimit, err)
		case sqlite3.SQLITE_ERROR:
			if strings.Contains(se.Error(), errFuncTooBig.Error()) {
				return fmt.Errorf("%w: %w", ErrLimit, err)
			}
		}
	}
	return &SQLError{Msg: err.Error(), Err: err}
}

// isOwn reports whether err already carries one of the package's errors: a
// sentinel or an *SQLError.
func isOwn(err error) bool {
	var (
		sqlErr   *SQLError
		sentinel sentinelError
	)
	return errors.As(err, &sqlErr) || errors.As(err, &sentinel)
}

// hasCode reports whether err carries a codedError whose primary result
// code is code.
func hasCode(err error, code int) bool {
	var se codedError
	return errors.As(err, &se) && se.Code()&0xff == code
}

// codedError is an error with SQLite's result code: the driver's
// *sqlite.Error, or a *stepError.
type codedError interface {
	error
	Code() int
}

// isNoMem reports whether SQLite failed for memory (SQLITE_NOMEM), as a
// bounded database's statement does past its budget (Options.MaxMemoryBytes).
func isNoMem(err error) bool { return hasCode(err, sqlite3.SQLITE_NOMEM) }

// isReadOnly reports whether SQLite refused a write with SQLITE_READONLY, as
// a query_only reader connection does.
func isReadOnly(err error) bool { return hasCode(err, sqlite3.SQLITE_READONLY) }

// isNoTxError reports whether err is SQLite's answer to a ROLLBACK with no
// transaction active, as after SQLite rolled a transaction back by itself.
func isNoTxError(err error) bool {
	return hasCode(err, sqlite3.SQLITE_ERROR) && strings.Contains(err.Error(), "no transaction is active")
}
