package storage_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// TestSession_transientTablesMemory: every table SQLite builds for one
// statement (a materialized CTE or subquery, DISTINCT, IN (SELECT ...),
// an automatic index) is a b-tree with a page cache of its own, of
// SQLite's default size (2000 KiB, SQLITE_DEFAULT_CACHE_SIZE: no PRAGMA
// reaches it), and only past that cache do its pages spill to the
// temporary files that MaxTempBytes bounds. The tables live until the
// statement ends, and one statement builds as many as it names: 128
// materialized CTEs of 1000 rows of 1.9 KB (12 KB of SQL, within every
// limit) grew the process by 465 MiB in about 1 s on a 2-core VM while
// the temporary files held at most 33 MiB; 300 CTEs in one statement held
// 1068 MiB, and a plugin has five connections (the writer and four
// readers) to run such statements on at once, until its call's deadline.
// The bound on temporary files leaves the same data in memory, unbounded:
// what one statement's transient tables hold in memory must be bounded,
// past it spilling to the bounded temporary files or failing. Their page
// caches are SQLite's memory, which MaxMemoryBytes bounds: the statement
// fails with ErrLimit there.
func TestSession_transientTablesMemory(t *testing.T) {
	db := openDB(t, storage.Options{MaxBytes: 1 << 20, MaxTempBytes: abi.MaxDBTempFileBytes, MaxMemoryBytes: abi.MaxDBMemoryBytes})
	s := session(t, db)
	const n = 128
	q := tables(n)
	runtime.GC()
	before := rssBytes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	peak := peakDuring(t, 2*time.Millisecond, rssBytes, func() { _, err = s.Query(ctx, q, nil) })
	if !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("%d materialized CTEs of 2 MB each under a memory bound of %d MiB: %v, want ErrLimit", n, abi.MaxDBMemoryBytes>>20, err)
	}
	if grew := peak - before; grew > 128<<20 {
		t.Fatalf("one statement of %d materialized CTEs of 2 MB each (%d bytes of SQL) grew the process by %d MiB (the statement: %v), want at most 128 MiB", n, len(q), grew>>20, err)
	}
}
