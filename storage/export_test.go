package storage

import (
	"database/sql"
	"time"
)

// SetCommitDelay makes db's committer wait d before each group COMMIT, so
// that a test can gather writes into one group.
func SetCommitDelay(db *DB, d time.Duration) { db.w.delay.Store(int64(d)) }

// GroupStats returns the writes committed (autocommit statements and
// transactions) and the COMMITs that committed them.
func GroupStats(db *DB) (writes, commits int64) { return db.w.writes.Load(), db.w.commits.Load() }

// Reader returns db's pool of reader connections.
func Reader(db *DB) *sql.DB { return db.reader }
