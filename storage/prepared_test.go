package storage_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/warden-rpc/warden/storage"
)

// TestSession_preparedMemory: a plugin's statements stay prepared, up to
// 128 per connection, whatever each costs. A view that unions another
// with itself, eleven levels deep, makes SELECT count(*) FROM it a
// program of 2048 subqueries, 100 ms to prepare; 128 such statements,
// each spelled differently, kept about 110 MB on one connection for as
// long as it lives, and a plugin has five (the writer and four readers):
// some 5 GB for views a few levels deeper, within every limit. What a
// connection keeps prepared must be bounded in bytes.
func TestSession_preparedMemory(t *testing.T) {
	db := openDB(t, storage.Options{})
	s := session(t, db)
	mustExec(t, s, "CREATE VIEW v0 AS SELECT 1 AS x")
	for k := 1; k <= 11; k++ {
		mustExec(t, s, fmt.Sprintf("CREATE VIEW v%d AS SELECT x FROM v%d UNION ALL SELECT x FROM v%d", k, k-1, k-1))
	}
	if err := s.Begin(context.Background(), true); err != nil { // one connection, the writer
		t.Fatal(err)
	}
	runtime.GC()
	before := rssBytes(t)
	for i := range 128 {
		mustQuery(t, s, fmt.Sprintf("SELECT %d + count(*) FROM v11", i))
	}
	runtime.GC()
	if grew := rssBytes(t) - before; grew > 64<<20 {
		t.Fatalf("128 statements prepared on one connection keep %d MiB", grew>>20)
	}
}
