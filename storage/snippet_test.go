package storage_test

import (
	"errors"
	"testing"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// TestSession_deadlineFTS5Snippet: fts5's snippet() scores a window at
// each phrase instance of the row by walking all of the row's instances,
// so one call costs the square of the instances, after one allocation of
// the instance list, and SQLite never interrupts it (the auxiliary
// function is one call of the statement's program). A row of 30,000
// tokens 'a' (60 KB; the 4 MiB value limit holds some 2,000,000) matched
// by 'a' makes 9e8 instance reads: 12.5 s under a 200 ms deadline on a
// 2-core VM (40,000 tokens: 24 s). Warden's snippet() refuses a row
// whose matches would cost that much (fts5.go).
func TestSession_deadlineFTS5Snippet(t *testing.T) {
	db := openDB(t, storage.Options{MaxMemoryBytes: abi.MaxDBMemoryBytes})
	s := session(t, db)
	ftsRowOfA(t, s, 30000)
	err := queryRefused(t, s, "SELECT snippet(f, 0, '[', ']', '...', 10) FROM f WHERE f MATCH 'a'")
	if !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("got %v, want ErrLimit: the row has too many matches", err)
	}
}
