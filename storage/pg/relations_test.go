package pg_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
)

// TestSession_relationsBounded checks the bound on the relations (tables,
// indexes, views, sequences) one plugin's schema holds: the statement that
// would pass it fails with storage.ErrLimit and leaves nothing, in a
// transaction of its own or the plugin's; dropping one makes room again.
// Without it, a plugin made 30,000 views whose query then took one lock
// each and filled PostgreSQL's shared lock table, which every session of
// the server, other plugins' and Warden's own, needs.
func TestSession_relationsBounded(t *testing.T) {
	db, _ := open(t, pg.Options{MaxRelations: 5})
	s := session(t, db, "hoarder")
	ctx := context.Background()
	mustExec(t, s, "CREATE TABLE t (id BIGINT PRIMARY KEY)") // a table and its index
	mustExec(t, s, "CREATE VIEW v1 AS SELECT 1 AS x")
	mustExec(t, s, "CREATE VIEW v2 AS SELECT 1 AS x")
	mustExec(t, s, "CREATE SEQUENCE q")
	count := func() int64 {
		t.Helper()
		return mustQuery(t, s, "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace").Values[0][0].(int64)
	}
	if n := count(); n != 5 {
		t.Fatalf("%d relations, want 5", n)
	}
	for _, q := range []string{"CREATE VIEW v3 AS SELECT 1 AS x", "CREATE INDEX ON t (id)", "CREATE TABLE u AS SELECT 1 AS x"} {
		if _, err := s.Exec(ctx, q, nil); !errors.Is(err, storage.ErrLimit) {
			t.Fatalf("%s past the bound: %v, want ErrLimit", q, err)
		}
	}
	if err := s.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Exec(ctx, "CREATE VIEW v4 AS SELECT 1 AS x", nil); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("in a transaction, past the bound: %v, want ErrLimit", err)
	}
	_ = s.Rollback(ctx)
	if n := count(); n != 5 {
		t.Fatalf("%d relations after the refusals, want 5", n)
	}
	mustExec(t, s, "DROP VIEW v2")
	mustExec(t, s, "CREATE VIEW v5 AS SELECT 1 AS x")
	if n := count(); n != 5 {
		t.Fatalf("%d relations after a drop and a create, want 5", n)
	}
}

// TestOptions_maxRelationsDefault checks that a plugin gets
// abi.MaxDBRelations relations by default, and not one more.
func TestOptions_maxRelationsDefault(t *testing.T) {
	db, _ := open(t, pg.Options{})
	s := session(t, db, "many")
	ctx := context.Background()
	if err := s.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	for i := range abi.MaxDBRelations {
		if _, err := s.Exec(ctx, fmt.Sprintf("CREATE SEQUENCE q%d", i), nil); err != nil {
			t.Fatalf("relation %d: %v", i+1, err)
		}
	}
	if _, err := s.Exec(ctx, "CREATE SEQUENCE one_more", nil); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("relation %d: %v, want ErrLimit", abi.MaxDBRelations+1, err)
	}
	_ = s.Rollback(ctx)
}
