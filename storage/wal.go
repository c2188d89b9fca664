package storage

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
)

// walCheckpointBytes is about what the write-ahead log holds before
// SQLite's automatic checkpoint (every 1000 pages, each a frame of a page
// and a 24-byte header) copies it into the database and lets the next
// write start it over.
const walCheckpointBytes = 1000 * (sqlitePageSize + 24)

// walLimit is the most the write-ahead log of a database bound to
// Options.MaxBytes may hold before a write: the bound and one checkpoint
// interval; 0 when the database has no bound.
//
// The log holds every page written since SQLite last started it over,
// which it does only once a checkpoint copied all of it into the database
// file and no read transaction still reads from it. A plugin whose read
// transactions overlap (several calls, each holding one until its
// deadline) keeps that from happening for as long as it likes, and each
// of its writes then appends its pages: the log would grow without bound
// beside a database file that stays within its own.
func (o Options) walLimit() int64 {
	if o.MaxBytes <= 0 {
		return 0
	}
	return o.MaxBytes + walCheckpointBytes
}

// walRoom checks that the write-ahead log has room before a group's
// transaction begins on c, the writer connection, outside any
// transaction. Over walLimit it runs a TRUNCATE checkpoint with no busy
// wait: it copies what it can into the database file and, if no read
// transaction still reads from the log, empties it; otherwise the write
// is refused until the readers end (each within its call's deadline). A
// log that a write starts over is truncated back to walLimit by
// journal_size_limit, so that a large transaction alone does not leave
// every later group checking. One os.Stat per group.
//
// # Errors
//
// ErrLimit when the log is over walLimit and a reader keeps it, or the
// checkpoint's error.
func (db *DB) walRoom(ctx context.Context, c *sql.Conn) error {
	limit := db.opts.walLimit()
	if limit == 0 {
		return nil
	}
	fi, err := os.Stat(db.path + "-wal")
	if err != nil || fi.Size() <= limit {
		return nil // no log yet, or within the bound
	}
	// A TRUNCATE checkpoint waits for readers in the busy handler: it
	// would hold the writer for BusyTimeout.
	if _, err := c.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return fmt.Errorf("checkpoint: %w", classify(err))
	}
	var busy, logFrames, copied int64
	err = c.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &copied)
	restore := "PRAGMA busy_timeout = " + strconv.FormatInt(db.opts.BusyTimeout.Milliseconds(), 10)
	if _, rerr := c.ExecContext(context.WithoutCancel(ctx), restore); err == nil {
		err = rerr
	}
	switch {
	case err != nil:
		return fmt.Errorf("checkpoint: %w", classify(err))
	case busy != 0:
		return fmt.Errorf("%w: the write-ahead log holds %d MiB, past the database's bound, and read transactions still read from it", ErrLimit, fi.Size()>>20)
	}
	return nil
}
