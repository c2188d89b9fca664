package pg_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
)

// TestSession_maxBytesIndexMissedByStaleCache: an index that another
// transaction of the plugin builds (CREATE INDEX creates a relation, but
// its pg_depend row is on the table, not the schema, so it sets no mark)
// is counted at a writer's commit only through the writer's relcache
// entry of the table, which PostgreSQL brings up to date only when the
// backend next takes a new lock or misses a catalog cache. A plugin's
// autocommit statement that, before the index commits, locks everything
// the commit's checks will touch (the table, pg_depend, its mark) and
// then writes after the index's own size check has passed, commits with
// a size check that does not see the index: both within the bound alone,
// far past it together.
func TestSession_maxBytesIndexMissedByStaleCache(t *testing.T) {
	const limit = 4 << 20
	ctx := context.Background()
	db1, url := open(t, pg.Options{MaxBytes: limit})
	db2, err := pg.Open(ctx, url, pg.Options{MaxBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db2.Close() })
	w, c := session(t, db1, "stale"), session(t, db2, "stale")
	mustExec(t, c, "CREATE TABLE t (k BIGINT) WITH (autovacuum_enabled = false)")
	mustExec(t, c, "INSERT INTO t SELECT g FROM generate_series(1, 3000) g")
	mustExec(t, c, "CREATE TABLE u (k BIGINT) WITH (autovacuum_enabled = false)")
	// The statement takes its locks when it is planned, reads the mark
	// (which locks it for the transaction), then sleeps $3 seconds, then
	// writes.
	const insert = "INSERT INTO u SELECT g FROM generate_series($1::bigint, $2::bigint) g" +
		" WHERE (SELECT 1 FROM (SELECT count(*) FROM t) a," +
		" (SELECT count(*) FROM pg_catalog.pg_depend WHERE refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND refobjid = 'plugin_stale'::regnamespace) b," +
		" pg_sleep($3 + 0 * coalesce(pg_catalog.pg_sequence_last_value('warden_ddl.plugin_stale'), 0)) s) = 1"
	for i := int64(0); i < 8; i++ { // warm the connection's caches
		mustExec(t, w, insert, -i, -i, 0.0)
	}
	done := make(chan error, 1)
	go func() {
		_, err := w.Exec(ctx, insert, []any{int64(1), int64(80000), 0.6}) // some 2.9 MB
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	// Some 2.2 MB; measured with u still empty, it passes.
	mustExec(t, c, "CREATE INDEX t_big ON t (("+distinctKey+"))")
	err = <-done
	var size, rows int64
	if err := admin(t, url).QueryRow(ctx, "SELECT (SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c WHERE c.relnamespace = 'plugin_stale'::regnamespace AND c.relkind IN ('r', 'm', 'S')), (SELECT count(*) FROM plugin_stale.u)").Scan(&size, &rows); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(err, storage.ErrLimit) || size > limit {
		t.Fatalf("the insert during the index build: %v, want ErrLimit; the schema takes %d bytes on a bound of %d (u has %d rows)", err, size, limit, rows)
	}
}

// TestSession_markIndexes: an index, and a unique constraint's, created
// while a write transaction of the plugin runs make its commit fail with
// ErrBusy (its check may not have counted them); warden_init's CREATE OR
// REPLACE VIEW, which rewrites the view's rule and its rows of pg_depend
// on the table, fails no write.
func TestSession_markIndexes(t *testing.T) {
	ctx := context.Background()
	for _, ddl := range []string{"CREATE INDEX t_v ON t (v)", "ALTER TABLE t ADD CONSTRAINT t_v UNIQUE (v)"} {
		t.Run(ddl, func(t *testing.T) {
			db1, db2 := twoNodes(t, pg.Options{MaxBytes: 64 << 20})
			w, c := session(t, db1, "p"), session(t, db2, "p")
			mustExec(t, c, "CREATE TABLE t (k BIGINT PRIMARY KEY, v TEXT)")
			mustExec(t, c, "CREATE TABLE u (k BIGINT)")
			if err := w.Begin(ctx, true); err != nil {
				t.Fatal(err)
			}
			mustExec(t, w, "INSERT INTO u VALUES (1)")
			mustExec(t, c, ddl)
			if err := w.Commit(ctx); !errors.Is(err, storage.ErrBusy) {
				t.Fatalf("a write whose snapshot missed %q: %v, want ErrBusy", ddl, err)
			}
		})
	}
	t.Run("CreateOrReplaceView", func(t *testing.T) {
		errs, _ := markUnderDDL(t, 500*time.Millisecond, func(i int) []string {
			return []string{"CREATE OR REPLACE VIEW vt AS SELECT k, v FROM t"}
		})
		for _, err := range errs {
			t.Error(err)
		}
	})
}
