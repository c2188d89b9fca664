package storage

import (
	"context"
	"database/sql"
	"fmt"
)

// errGroupLost is the failure of a write transaction whose group was rolled
// back by another write's failure after it committed into the group.
var errGroupLost = fmt.Errorf("%w: rolled back with the writes committed alongside it; retry", ErrBusy)

// savepoint marks where a write transaction starts inside its group.
const (
	savepointBegin    = "SAVEPOINT warden_tx"
	savepointRelease  = "RELEASE warden_tx"
	savepointRollback = "ROLLBACK TO warden_tx"
)

// txBegin starts a write transaction inside the group: it takes the
// writer, which the transaction holds until txCommit or txRollback, and
// returns the connection to run its statements on.
func (w *writer) txBegin(ctx context.Context) (*sql.Conn, error) {
	if err := w.take(ctx); err != nil {
		return nil, err
	}
	w.txDead = false
	if err := w.cs.exec(ctx, savepointBegin); err != nil {
		w.recover(ctx)
		w.letGo()
		return nil, fmt.Errorf("begin: %w", classify(err))
	}
	return w.conn, nil
}

// txCheck is called after each statement of a write transaction: when
// SQLite rolled the group's transaction back (the statement's failure, or
// an interrupt), the transaction is over and the other writes run again.
// It reports whether the transaction is still alive.
func (w *writer) txCheck(ctx context.Context) bool {
	if !w.txDead && w.recover(ctx) {
		w.txDead = true
	}
	return !w.txDead
}

// txCommit ends the write transaction into the group, lets go of the
// writer and returns once the group committed.
//
// # Errors
//
// A deferred foreign-key violation (the transaction is rolled back), the
// RELEASE's error, errGroupLost, or the group's COMMIT error.
func (w *writer) txCommit(ctx context.Context) error {
	if w.txDead {
		w.letGo()
		return errGroupLost
	}
	if err := w.cs.checkDeferred(); err != nil {
		w.txRollback(ctx)
		return fmt.Errorf("commit: %w", err)
	}
	if err := w.cs.exec(context.WithoutCancel(ctx), savepointRelease); err != nil {
		w.txRollback(ctx)
		return fmt.Errorf("commit: %w", classify(err))
	}
	return w.join(&member{})
}

// txRollback rolls the write transaction back to its savepoint and lets go
// of the writer; the group goes on. If the rollback fails, the group is
// ended with the error.
func (w *writer) txRollback(ctx context.Context) {
	if !w.txDead && w.group != nil {
		bg := context.WithoutCancel(ctx)
		err := w.cs.exec(bg, savepointRollback)
		if err == nil {
			err = w.cs.exec(bg, savepointRelease)
		}
		if err != nil {
			w.finish(fmt.Errorf("roll back a transaction: %w", classify(err)))
		}
	}
	w.txDead = false
	w.letGo()
}
