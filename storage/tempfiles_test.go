package storage_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// deletedFileBytes sums the sizes of the deleted files the process holds
// open: SQLite's temporary files (sorts, DISTINCT, materialized views),
// which it unlinks as it opens them.
func deletedFileBytes(t *testing.T) int64 {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	var n int64
	for _, e := range ents {
		p := "/proc/self/fd/" + e.Name()
		if l, err := os.Readlink(p); err != nil || !strings.HasSuffix(l, " (deleted)") {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TestDB_MaxBytes_tempFiles: a plugin whose database is bound to 1 MiB
// sorts rows of 4 MB it builds with a recursive CTE. SQLite spills the
// sort to temporary files, which neither max_page_count nor anything else
// bounds: one statement wrote over 1 GiB in 2 to 3 s on a 2-core VM, and a
// plugin's five connections, its instances and its calls one after another
// fill the disk the other plugins and the server write to. The temporary
// files of one statement must stay within abi.MaxDBTempFileBytes, what
// PostgreSQL allows one of a plugin's connections: past it the statement
// fails with ErrLimit.
func TestDB_MaxBytes_tempFiles(t *testing.T) {
	db := openDB(t, storage.Options{MaxBytes: 1 << 20, MaxTempBytes: abi.MaxDBTempFileBytes})
	s := session(t, db)
	// Refused in about 0.5 s; the deadline leaves a busy machine room.
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	var err error
	// The files the process held before are not the statement's (an
	// earlier test's database, deleted with its folder, may still be open
	// until its connections close).
	before := deletedFileBytes(t)
	peak := peakDuring(t, 2*time.Millisecond, deletedFileBytes, func() {
		_, err = s.Query(ctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100000)
		SELECT length(b) FROM (SELECT zeroblob(4000000) || x AS b FROM c ORDER BY random()) LIMIT 1`, nil)
	})
	if p := peak - before; p > abi.MaxDBTempFileBytes {
		t.Fatalf("one statement of a plugin bound to 1 MiB held %d MiB of temporary files (the statement: %v), want at most %d MiB", p>>20, err, abi.MaxDBTempFileBytes>>20)
	}
	if !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("a sort of 400 GB: %v, want ErrLimit", err)
	}
}
