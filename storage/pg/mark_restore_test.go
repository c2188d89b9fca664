package pg_test

import (
	"context"
	"testing"

	"github.com/warden-rpc/warden/storage/pg"
)

// TestDB_markFromAnotherHistory: pg_dump saves a sequence's value, so a
// database restored into a new cluster (whose transaction IDs start
// again from a few hundred) has marks holding transaction IDs its
// cluster has not reached: PostgreSQL's snapshot takes such a mark for a
// transaction that has not ended, and every write of the plugin failed
// with ErrBusy until the cluster's IDs passed the old ones (here a
// billion later). A node that sets the plugin up takes a mark from the
// future for no mark.
func TestDB_markFromAnotherHistory(t *testing.T) {
	ctx := context.Background()
	db, url := open(t, pg.Options{MaxBytes: 4 << 20})
	s := session(t, db, "restored")
	mustExec(t, s, "CREATE TABLE t (k BIGINT)")
	// The restore: the mark as the old cluster left it.
	if _, err := admin(t, url).Exec(ctx, "SELECT setval('warden_ddl.plugin_restored', pg_current_xact_id()::text::bigint + 1000000000)"); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	db, err := pg.Open(ctx, url, pg.Options{MaxBytes: 4 << 20}) // Warden starts on the restored database
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s = session(t, db, "restored")
	if _, err := s.Exec(ctx, "INSERT INTO t VALUES (1)", nil); err != nil {
		t.Fatalf("a write on the restored database: %v", err)
	}
}
