package storage

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"
)

// SetCommitDelay makes db's committer wait d before each group COMMIT, so
// that a test can gather writes into one group.
func SetCommitDelay(db *DB, d time.Duration) { db.w.delay.Store(int64(d)) }

// CountCommits counts, from now until the test ends, the transactions that
// SQLite commits on db's writer connection, with SQLite's commit hook: a
// group's COMMIT counts once, however many writes it holds. Call it while
// no write is running, and use it only where no write discards the
// connection (a failed rollback): a new connection has no hook.
func CountCommits(t testing.TB, db *DB) *atomic.Int64 {
	t.Helper()
	n := new(atomic.Int64)
	hook := func(fn sqlite.CommitHookFn) {
		c, err := db.writer.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		err = c.Raw(func(dc any) error {
			dc.(interface{ RegisterCommitHook(sqlite.CommitHookFn) }).RegisterCommitHook(fn)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	hook(func() int32 { n.Add(1); return 0 })
	t.Cleanup(func() {
		if !db.closed.Load() {
			hook(nil)
		}
	})
	return n
}

// Reader returns db's pool of reader connections.
func Reader(db *DB) *sql.DB { return db.reader }
