package storage

import (
	"context"
	"database/sql"
)

// errRolledBack is the failure of a write that rolled back the group's
// transaction without an error of its own.
var errRolledBack = &SQLError{Msg: "the statement rolled its transaction back"}

// apply runs one autocommit write in the open group's transaction. It
// reports false when the write must be undone with the whole transaction
// (the caller rebuilds the group without it): SQLite rolled it back, or it
// left a deferred foreign-key violation, which would fail the group's
// COMMIT (see checkDeferred; RATIONALE.md says why not a savepoint).
func (w *writer) apply(run func(*sql.Conn) error) (alive bool, err error) {
	err = run(w.conn)
	if w.cs.rolledBack {
		return false, err
	}
	if err == nil {
		if err = w.cs.checkDeferred(); err != nil {
			return false, err
		}
	}
	return true, err
}

// recover runs the group's writes again if SQLite rolled the group's
// transaction back (a failure of the statement that just ran), and reports
// whether it did.
func (w *writer) recover(ctx context.Context) bool {
	if w.cs == nil || !w.cs.rolledBack {
		return false
	}
	w.rebuild(ctx)
	return true
}

// rebuild runs the group's writes again in a new transaction after SQLite
// rolled the old one back. A write that fails now fails alone; one that
// rolls the transaction back again is dropped and the rest start over.
func (w *writer) rebuild(ctx context.Context) {
	g := w.group
	w.db.release(w.conn, true)
	w.conn, w.cs = nil, nil
	for {
		if len(g.members) == 0 {
			w.finish(nil)
			return
		}
		if err := w.begin(context.WithoutCancel(ctx)); err != nil {
			w.finish(err)
			return
		}
		kept := make([]*member, 0, len(g.members))
		restart := false
		for i, m := range g.members {
			if m.run == nil {
				m.err = errGroupLost // a write transaction: its guest saw its results
				continue
			}
			var alive bool
			if alive, m.err = w.apply(m.run); !alive {
				if m.err == nil {
					m.err = errRolledBack
				}
				kept = append(kept, g.members[i+1:]...)
				restart = true
				break
			}
			if m.err == nil {
				kept = append(kept, m)
			}
		}
		g.members = kept // every member kept has no error
		if !restart {
			return // the group goes on in the new transaction
		}
		w.db.release(w.conn, true)
		w.conn, w.cs = nil, nil
	}
}
