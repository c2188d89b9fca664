package storage

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// maxGroup bounds the statements one group commit covers.
const maxGroup = 256

// writer runs plugins' writes with group commit.
//
// Each autocommit write is its own transaction to the plugin: it is applied
// in full or not at all, and acknowledged only once it is committed. SQLite
// pays per transaction for the write lock (fcntl calls) and for writing the
// changed pages to the WAL, whatever the transaction's size. So the writer
// keeps one transaction (BEGIN IMMEDIATE) open on the writer connection,
// runs each write in it as it comes, and commits once for everyone who
// wrote in the meantime: the committer goroutine commits as soon as the
// goroutines ready to run have had their turn, and every write waits for
// that COMMIT before it returns. A statement that fails is undone by SQLite
// (statement rollback) and the others go on. A statement whose failure
// rolls back the whole transaction (ON CONFLICT ROLLBACK, an interrupt at
// its deadline, an I/O error) would undo the others too: the writer runs
// theirs again in a new transaction before any of them returns; their
// results are those of the statements that commit. So does a statement
// that leaves a deferred foreign key violated, which would fail the
// group's COMMIT: it fails with a constraint error, and the writer rolls
// the transaction back and runs the others again without it.
//
// Write transactions opened with Session.Begin join the group as well: they
// hold the writer from Begin to Commit or Rollback, inside a savepoint, and
// Commit returns after the group's COMMIT. Their guests saw their results,
// so they are not run again: if the group is rolled back after one
// committed into it, its Commit fails with ErrBusy. Warden's own statements
// on DB.Writer wait for the group's connection in its pool.
type writer struct {
	db   *DB
	sem  chan struct{} // held while a write or a COMMIT uses the connection
	kick chan struct{} // a group waits for its COMMIT
	stop chan struct{}
	done chan struct{} // the committer has returned

	delay   atomic.Int64 // tests: how long (ns) the committer waits before a COMMIT
	closing atomic.Bool  // Close has begun: whoever lets go of the writer commits the open group

	// Guarded by sem.
	conn   *sql.Conn  // the open group's connection; nil when no group is open
	cs     *connState // conn's state
	group  *group
	txDead bool // the write transaction holding the writer was rolled back with its group
}

// group is the writes that the open transaction holds and will commit.
type group struct {
	members []*member
	err     error         // the COMMIT's error; read after done is closed
	done    chan struct{} // closed once the group committed or failed
}

// member is one write in a group: run runs it again if the group's
// transaction must be rebuilt, and err is its own failure in that case. A
// write transaction's member has no run: its guest saw its results, so it
// cannot be run again.
type member struct {
	run func(*sql.Conn) error
	err error
}

func newWriter(db *DB) *writer {
	w := &writer{
		db:   db,
		sem:  make(chan struct{}, 1),
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go w.committer()
	return w
}

// write runs one autocommit write and returns once it committed.
//
// # Errors
//
// The statement's error, ErrBusy when the writer stays taken for
// BusyTimeout, a context error, or the error of the group's COMMIT.
func (w *writer) write(ctx context.Context, run func(*sql.Conn) error) error {
	if err := w.take(ctx); err != nil {
		return err
	}
	alive, err := w.apply(run)
	if !alive {
		w.rebuild(ctx)
		if err == nil { // a statement rolled back without failing: never seen
			err = errRolledBack
		}
		w.letGo()
		return err
	}
	if err != nil {
		w.letGo()
		return err // the statement was undone; the group goes on
	}
	return w.join(&member{run: run})
}

// join adds m to the open group, lets go of the writer, and returns m's
// outcome once the group committed or failed.
func (w *writer) join(m *member) error {
	g := w.group
	g.members = append(g.members, m)
	w.letGo()
	<-g.done
	if m.err != nil {
		return m.err
	}
	return g.err
}

// lock takes the writer, waiting at most BusyTimeout.
func (w *writer) lock(ctx context.Context) error {
	select {
	case w.sem <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(w.db.opts.BusyTimeout)
	defer t.Stop()
	select {
	case w.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("%w: the writer stayed taken for %s", ErrBusy, w.db.opts.BusyTimeout)
	}
}

func (w *writer) unlock() { <-w.sem }

// take takes the writer with a group's transaction open.
func (w *writer) take(ctx context.Context) error {
	if err := w.lock(ctx); err != nil {
		return err
	}
	if w.closing.Load() {
		w.letGo()
		return ErrClosed
	}
	if w.group != nil && len(w.group.members) >= maxGroup {
		w.commit()
	}
	if w.group == nil {
		if err := w.begin(ctx); err != nil {
			w.unlock()
			return err
		}
	}
	return nil
}

// letGo lets go of the writer and has the open group committed: by the
// committer, or here once Close has begun.
func (w *writer) letGo() {
	w.unlock()
	select {
	case w.kick <- struct{}{}:
	default: // the committer is already due
	}
	if w.closing.Load() {
		w.flush()
	}
}

// flush commits the open group if the writer is free; if it is not, its
// holder flushes when it lets go.
func (w *writer) flush() {
	select {
	case w.sem <- struct{}{}:
	default:
		return
	}
	if w.group != nil {
		w.commit()
	}
	w.unlock()
}

// begin takes the writer connection and opens a group's transaction.
func (w *writer) begin(ctx context.Context) error {
	c, err := w.db.acquire(ctx, w.db.writer)
	if err != nil {
		return err
	}
	if err := w.db.walRoom(ctx, c); err != nil {
		w.db.release(c, false)
		return err
	}
	var cs *connState
	err = c.Raw(func(dc any) (err error) {
		if cs, err = w.db.connState(dc); err != nil {
			return err
		}
		cs.rolledBack = false
		return cs.exec(ctx, "BEGIN IMMEDIATE")
	})
	if err != nil {
		w.db.release(c, true) // BEGIN may have run even if ctx ended
		return fmt.Errorf("begin: %w", classify(err))
	}
	w.conn, w.cs = c, cs
	if w.group == nil {
		w.group = &group{done: make(chan struct{})}
	}
	return nil
}

// commit commits the open group; the caller holds sem.
func (w *writer) commit() {
	err := w.cs.exec(context.Background(), "COMMIT")
	if err != nil {
		err = fmt.Errorf("commit: %w", classify(err))
	} else if o := w.db.opts.Observer; o != nil {
		o.GroupCommitted(w.db.name(), len(w.group.members))
	}
	w.finish(err)
}

// finish ends the open group with err (nil once committed) and returns
// its connection; with an error the transaction is rolled back.
func (w *writer) finish(err error) {
	g := w.group
	if w.conn != nil {
		w.db.release(w.conn, err != nil)
	}
	w.conn, w.cs, w.group = nil, nil, nil
	g.err = err
	close(g.done)
}

// committer commits each group once the goroutines ready to run have
// joined it.
func (w *writer) committer() {
	defer close(w.done)
	for {
		select {
		case <-w.kick:
		case <-w.stop:
			w.flush()
			return
		}
		// Let the goroutines that are ready run first: those about to write
		// join this group instead of waiting for the next one.
		runtime.Gosched()
		if d := w.delay.Load(); d > 0 {
			time.Sleep(time.Duration(d))
		}
		w.sem <- struct{}{}
		if w.group != nil {
			w.commit()
		}
		<-w.sem
	}
}

// close stops the committer and commits the open group, now or, if a
// write transaction holds the writer, when it ends.
func (w *writer) close() {
	w.closing.Store(true)
	close(w.stop)
	<-w.done
}
