package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/storage"
)

// TestSession_cachesGiveWay: a connection's page cache and prepared
// statements count against the database's memory budget and were never
// given back, so a plugin whose caches grew to its budget was refused
// every statement that needed memory, until a restart. Here the one
// reader keeps twelve statements over a view of 4,096 unioned selects
// (7.4 MB), and a read whose five materialized subqueries of 2 MB keep
// their pages in page caches of their own (20 MB) then fails for memory
// on a 24 MiB budget; the caches must give way to it, and the read run.
func TestSession_cachesGiveWay(t *testing.T) {
	db := openDB(t, storage.Options{MaxReaders: 1, MaxMemoryBytes: 24 << 20})
	s := session(t, db)
	mustExec(t, s, "CREATE VIEW v0 AS SELECT 1 AS x")
	for k := 1; k <= 12; k++ {
		mustExec(t, s, fmt.Sprintf("CREATE VIEW v%d AS SELECT x FROM v%d UNION ALL SELECT x FROM v%d", k, k-1, k-1))
	}
	for i := range 12 {
		mustQuery(t, s, fmt.Sprintf("SELECT x + %d FROM v12 LIMIT 1", i))
	}
	ctx := context.Background()
	for i := range 2 {
		if _, err := s.Query(ctx, tables(5), nil); err != nil {
			t.Fatalf("read %d that needs 20 MB with 7.4 MB of statements cached on a 24 MiB budget: %v", i, err)
		}
		if i == 0 { // the caches grow back once
			for j := range 12 {
				mustQuery(t, s, fmt.Sprintf("SELECT x + %d FROM v12 LIMIT 1", 100+j))
			}
		}
	}
	// A read that needs more than the budget alone still fails.
	if _, err := s.Query(ctx, tables(10), nil); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("a read that needs 40 MB on a 24 MiB budget: %v, want ErrLimit", err)
	}
}

// tables is a read of n materialized subqueries of 1,000 rows of 2 KB.
func tables(n int) string {
	var b strings.Builder
	b.WriteString("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000)")
	for i := range n {
		fmt.Fprintf(&b, ", a%d AS MATERIALIZED (SELECT zeroblob(1900) || x AS v FROM c)", i)
	}
	b.WriteString(" SELECT 0")
	for i := range n {
		fmt.Fprintf(&b, " + (SELECT count(*) FROM a%d)", i)
	}
	return b.String()
}
