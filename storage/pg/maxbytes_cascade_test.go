package pg_test

import (
	"context"
	"errors"
	"testing"

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
)

// TestSession_maxBytesDeletesOverInflatedBefore: a transaction of deletes
// only may commit up to the size its schema had at its start ("before"),
// which counts the uncommitted rows of the plugin's other transactions.
// One of its connections writes 30 MB that the bound will refuse; while
// they are in the files, another begins (measuring them), and deletes a
// parent row whose children's foreign key is ON DELETE SET DEFAULT, with a
// default of 2,000 bytes stored uncompressed: the cascade writes 20 MB of
// new row versions. The first is refused, and the vacuum after the refusal
// gives its pages back to the disk; the second's schema is then under its
// "before", and it commits 20 MB on a bound of 4 MiB: a round may add what
// one in-flight write took (bounded by a call's deadline, not the bound).
func TestSession_maxBytesDeletesOverInflatedBefore(t *testing.T) {
	const limit = 4 << 20
	s, x, y := cascader(t, limit)
	ctx := context.Background()
	mustExec(t, s, createT)

	if err := x.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	mustExec(t, x, rowsOf1K, int64(1), int64(30000)) // some 35 MB, in flight
	// Any refusal now teaches the node that the plugin is over its bound,
	// so that y's transaction measures its start.
	if _, err := s.Exec(ctx, "INSERT INTO p VALUES ('b')", nil); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("a write while 35 MB are in flight: %v, want ErrLimit", err)
	}
	if err := y.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	mustExec(t, y, "DELETE FROM p WHERE k = 'a'")
	if err := x.Commit(ctx); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("35 MB: %v, want ErrLimit", err)
	}
	if err := y.Commit(ctx); err == nil {
		got := mustQuery(t, s, "SELECT sum(octet_length(k))::bigint FROM c").Values[0][0]
		t.Fatalf("a transaction of deletes committed %v bytes of uncompressed values on a bound of %d bytes", got, limit)
	}
}

// TestSession_maxBytesDeletesOverInflatedRelation: as
// TestSession_maxBytesDeletesOverInflatedBefore, with the 30 MB in flight
// written to the very table the cascade grows, and the cascade run after
// the refusal and its vacuum: the table then measured, at the start of the
// transaction of deletes, more than the cascade makes it, so that comparing
// each relation's size with its size at the start would let it commit too.
func TestSession_maxBytesDeletesOverInflatedRelation(t *testing.T) {
	const limit = 4 << 20
	s, x, y := cascader(t, limit)
	ctx := context.Background()

	if err := x.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	mustExec(t, x, "INSERT INTO c SELECT g, repeat('z', 2000) FROM generate_series(1, 15000) g") // some 30 MB of c, in flight
	if _, err := s.Exec(ctx, "INSERT INTO p VALUES ('b')", nil); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("a write while 30 MB are in flight: %v, want ErrLimit", err)
	}
	if err := y.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := x.Commit(ctx); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("30 MB: %v, want ErrLimit", err)
	}
	mustExec(t, y, "DELETE FROM p WHERE k = 'a'")
	if err := y.Commit(ctx); err == nil {
		got := mustQuery(t, s, "SELECT sum(octet_length(k))::bigint FROM c").Values[0][0]
		t.Fatalf("a transaction of deletes committed %v bytes of uncompressed values on a bound of %d bytes", got, limit)
	}
	// Deletes that write no row version still commit over the bound.
	mustExec(t, s, "DELETE FROM c WHERE id > 5000")
	if n := mustQuery(t, s, "SELECT count(*) FROM c").Values[0][0]; n != int64(5000) {
		t.Fatalf("%v rows left, want 5000", n)
	}
}

// cascader returns three sessions of the plugin cascader under a bound of
// limit bytes, with a table p and 10,000 rows of a table c whose k refers
// to p's 'a', ON DELETE SET DEFAULT, with a default of 2,000 bytes stored
// out of line, uncompressed; p also holds that default.
func cascader(t *testing.T, limit int64) (s, x, y storage.PluginSession) {
	t.Helper()
	db, _ := open(t, pg.Options{MaxBytes: limit})
	s, x, y = session(t, db, "cascader"), session(t, db, "cascader"), session(t, db, "cascader")
	mustExec(t, s, "CREATE TABLE p (k TEXT PRIMARY KEY)")
	mustExec(t, s, "CREATE TABLE c (id BIGINT, k TEXT DEFAULT repeat('z', 2000) REFERENCES p ON DELETE SET DEFAULT) WITH (autovacuum_enabled = false, toast.autovacuum_enabled = false)")
	mustExec(t, s, "ALTER TABLE c ALTER COLUMN k SET STORAGE EXTERNAL") // out of line, uncompressed
	mustExec(t, s, "INSERT INTO p VALUES ('a'), (repeat('z', 2000))")
	mustExec(t, s, "INSERT INTO c SELECT g, 'a' FROM generate_series(1, 10000) g") // some 500 KB
	return s, x, y
}
