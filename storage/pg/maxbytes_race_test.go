package pg_test

import (
	"context"
	"testing"

	"github.com/warden-rpc/warden/storage/pg"
)

// TestSession_maxBytesNewTablesInOverlappingTransactions: two overlapping
// transactions of one plugin (two of its connections, or two nodes), each
// creating a table of its own and filling it to within the bound, both
// commit: the second measures the schema through pg_depend under its
// SERIALIZABLE snapshot, taken before the first committed its table, so it
// never sees that relation, however the files add up (the DDL lock only
// orders the two CREATE TABLEs). The bound's own words
// (RATIONALE.md): "committed data passes the bound only by the rule's
// room".
func TestSession_maxBytesNewTablesInOverlappingTransactions(t *testing.T) {
	const limit = 4 << 20
	db, _ := open(t, pg.Options{MaxBytes: limit})
	ctx := context.Background()
	a := session(t, db, "twins")
	b := session(t, db, "twins")
	fill := func(s interface {
		Exec(context.Context, string, []any) (int64, error)
	}, table string) {
		t.Helper()
		if _, err := s.Exec(ctx, "CREATE TABLE "+table+" (k BIGINT, v TEXT) WITH (autovacuum_enabled = false)", nil); err != nil {
			t.Fatal(err)
		}
		// about 3.5 MB: within the bound alone
		if _, err := s.Exec(ctx, "INSERT INTO "+table+" SELECT g, repeat('x', 1000) FROM generate_series(1, 3000) g", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := b.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	mustQuery(t, b, "SELECT 1") // b's snapshot
	fill(a, "ta")
	errA := a.Commit(ctx)
	fill(b, "tb") // after a's commit, which released the plugin's DDL lock
	errB := b.Commit(ctx)
	if errA == nil && errB == nil {
		t.Fatalf("both transactions committed: %d rows of 1,000 bytes in the plugin's schema on a bound of %d bytes", count(t, a, "ta")+count(t, a, "tb"), limit)
	}
}
