package storage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage"
)

// TestSession_deadlineStraightLine: SQLite looks at the interrupt (and
// calls a progress handler) only at the jumps of a statement's program,
// so an expression without a loop runs to its end whatever the deadline.
// Within the 64 KiB SQL limit, json_extract with 999 paths, each a scan of
// a 2.9 MB object, nine times in one expression, ran 25 s under a 1 s
// deadline on a 2-core VM: the call, its connection and a core stay taken
// that long. Three of them must still end near a 1.5 s deadline (the object takes some 250 ms to build).
func TestSession_deadlineStraightLine(t *testing.T) {
	db := openDB(t, storage.Options{})
	s := session(t, db)
	one := "length(json_extract(j," + strings.Repeat("'$.zz',", 998) + "'$.zz'))"
	q := `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 250000),
		o(j) AS MATERIALIZED (SELECT json_group_object('k' || x, 1) FROM c)
		SELECT ` + strings.Join([]string{one, one, one}, " + ") + " FROM o"
	const deadline = 1500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	_, err := s.Query(ctx, q, nil)
	if took := time.Since(start); took > deadline+time.Second {
		t.Fatalf("a statement with a deadline of %v ran %v (%v)", deadline, took.Round(time.Millisecond), err)
	}
}
