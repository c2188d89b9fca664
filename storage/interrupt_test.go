package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// filesOpenUnder counts the process's open files under dir.
func filesOpenUnder(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, dir+"/") {
			n++
		}
	}
	return n
}

// TestSession_interruptedStatementsKeepNoConnection: a plugin statement
// interrupted at its deadline leaves SQLite's interrupt flag set on its
// connection, so the driver reports the connection unusable and
// database/sql closes it; with the plugin's statements still prepared on
// it, SQLite keeps it open as a zombie, its files and memory with it,
// for the life of the process. Every call of a plugin that runs to its
// deadline left two open files: 60 such calls, 120, on a server whose
// descriptors every plugin and listener share.
func TestSession_interruptedStatementsKeepNoConnection(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.Open(context.Background(), filepath.Join(dir, "warden.db"), storage.Options{MaxMemoryBytes: abi.MaxDBMemoryBytes})
	if err != nil {
		t.Fatal(err)
	}
	s := db.NewSession()
	interrupted := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := s.Query(ctx, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", nil)
		if err == nil {
			t.Fatal("a statement without end ended")
		}
	}
	interrupted()
	interrupted()
	base := filesOpenUnder(t, dir)
	for range 30 {
		interrupted()
	}
	if n := filesOpenUnder(t, dir); n > base {
		t.Errorf("30 interrupted statements: %d files open under the database's directory, %d before them", n, base)
	}
	_ = s.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := filesOpenUnder(t, dir); n != 0 {
		t.Errorf("the database is closed and %d of its files are open", n)
	}
}
