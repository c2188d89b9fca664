package storage

import (
	"path/filepath"
	"strings"
)

// CommitObserver is told of every group commit, for metrics; a nil one
// costs nothing. Its method must not block: the writer holds the database
// while it runs.
type CommitObserver interface {
	// GroupCommitted is called after a group's COMMIT succeeded: db is
	// the database file's name without ".db" (a plugin's name, or
	// "warden"), size the number of writes the COMMIT made durable.
	GroupCommitted(db string, size int)
}

// name returns the database file's name without ".db".
func (db *DB) name() string { return strings.TrimSuffix(filepath.Base(db.path), ".db") }
