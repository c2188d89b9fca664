package pg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/warden-rpc/warden/storage"
)

// SQLSTATE codes the engine maps to the storage sentinels.
const (
	stateSerialization = "40001" // serialization_failure
	stateDeadlock      = "40P01" // deadlock_detected
	stateLockTimeout   = "55P03" // lock_not_available: lock_timeout, set to BusyTimeout
	stateReadOnly      = "25006" // read_only_sql_transaction
	statePrivilege     = "42501" // insufficient_privilege
	stateConfigLimit   = "53400" // configuration_limit_exceeded: temp_file_limit
	// stateDivisionByZero is how names.roleCheck fails.
	stateDivisionByZero = "22012" // division_by_zero
)

// classify maps a pgx or PostgreSQL error onto the storage package's
// vocabulary: serialization failures, deadlocks, lock waits longer than
// BusyTimeout and an unreachable server (Unavailable) are storage.ErrBusy (roll back and retry), a write in a read-only transaction storage.ErrReadOnly, a
// missing privilege storage.ErrNotAllowed (the plugin reached beyond its
// schema), a statement past temp_file_limit storage.ErrLimit, context errors stay as they are, and everything else is a
// *storage.SQLError with PostgreSQL's message.
func classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && !isOwn(err) {
		return ctx.Err()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isOwn(err) {
		return err
	}
	if Unavailable(err) {
		// The server is away (a restart, a lost connection): busy, so
		// that plugins retry later, not an SQL error (see unavailable.go).
		return fmt.Errorf("%w: database unavailable: %v", storage.ErrBusy, err)
	}
	var tooLong *pgproto3.ExceededMaxBodyLenErr
	if errors.As(err, &tooLong) {
		return fmt.Errorf("%w: a row of more than %d bytes", storage.ErrLimit, tooLong.MaxExpectedBodyLen)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case stateSerialization, stateDeadlock, stateLockTimeout:
			return fmt.Errorf("%w: %s", storage.ErrBusy, pe.Message)
		case stateReadOnly:
			return fmt.Errorf("%w: %s", storage.ErrReadOnly, pe.Message)
		case statePrivilege:
			return fmt.Errorf("%w: %s", storage.ErrNotAllowed, pe.Message)
		case stateConfigLimit:
			return fmt.Errorf("%w: %s", storage.ErrLimit, pe.Message)
		}
		return &storage.SQLError{Msg: pe.Message, Err: err}
	}
	return &storage.SQLError{Msg: err.Error(), Err: err}
}

// isOwn reports whether err already carries one of the storage package's
// errors.
func isOwn(err error) bool {
	var sqlErr *storage.SQLError
	if errors.As(err, &sqlErr) {
		return true
	}
	for _, s := range []error{storage.ErrBusy, storage.ErrTxFailed, storage.ErrTxOpen, storage.ErrNoTx,
		storage.ErrReadOnly, storage.ErrLimit, storage.ErrNotAllowed, storage.ErrClosed, storage.ErrBadName} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// retryable reports whether err is a serialization failure or deadlock,
// or errDDLCommitted: the statement's snapshot missed a relation.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == stateSerialization || pe.Code == stateDeadlock) || errors.Is(err, errDDLCommitted)
}
