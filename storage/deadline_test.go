package storage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// TestSession_deadlineStraightLine: SQLite looks at the interrupt (and
// calls a progress handler) only at the jumps of a statement's program,
// so an expression without a loop runs to its end whatever the deadline.
// Within the 64 KiB SQL limit, json_extract with 999 paths, each a scan of
// a 2.9 MB object, nine times in one expression, ran 25 s under a 1 s
// deadline on a 2-core VM: the call, its connection and a core stay taken
// that long. A call may now have 126 paths (abi.MaxSQLFunctionArgs), and
// the 64 KiB fit 60 such calls; with three calls of 999 paths (refused
// now) or 60 of 126, the statement must end within a few seconds of a
// 1.5 s deadline (the object takes some 250 ms to build, and the last
// call runs to its end), not 25 s after it.
func TestSession_deadlineStraightLine(t *testing.T) {
	db := openDB(t, storage.Options{MaxMemoryBytes: abi.MaxDBMemoryBytes})
	s := session(t, db)
	call := func(paths int) string {
		return "length(json_extract(j," + strings.Repeat("'$.zz',", paths-1) + "'$.zz'))"
	}
	for _, tc := range []struct {
		name         string
		calls, paths int
	}{
		{"999 paths", 3, 999},
		{"126 paths", 60, abi.MaxSQLFunctionArgs - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := make([]string, tc.calls)
			for i := range calls {
				calls[i] = call(tc.paths)
			}
			q := `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 250000),
				o(j) AS MATERIALIZED (SELECT json_group_object('k' || x, 1) FROM c)
				SELECT ` + strings.Join(calls, " + ") + " FROM o"
			if len(q) > abi.MaxSQLBytes {
				t.Fatalf("the statement has %d bytes, over the SQL limit", len(q))
			}
			const deadline = 1500 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			_, err := s.Query(ctx, q, nil)
			// A call of 126 paths takes some 0.35 s on an idle 2-core VM,
			// twice that on a busy one; the statement ran 25 s before.
			if took := time.Since(start); took > deadline+4*time.Second {
				t.Fatalf("a statement with a deadline of %v ran %v (%v)", deadline, took.Round(time.Millisecond), err)
			}
			if err == nil {
				t.Fatal("the statement ran to its end")
			}
		})
	}
}
