package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// TestSession_deadlineFTS5Positions: an fts5 table with detail=column
// (or none) keeps no token positions, so the first auxiliary function
// that asks for a row's matches (xInstCount: highlight(), snippet(),
// bm25(), ORDER BY rank) has fts5 tokenize the row again and compare
// every token with every phrase of the query, in one call that
// allocates nothing while no token matches and that SQLite never
// interrupts. One row of 'a' then 1,000,000 tokens 'b' (2 MB; the 4 MiB
// value limit holds twice that), matched by 'a' OR'ed 1,000 times (5 KB
// of query), made 10^9 comparisons: highlight() ran 13.2 s and snippet()
// 12.0 s under a 200 ms deadline (Warden's snippet() asks xInstCount
// before it reckons its bound, so it pays the same); bm25() and ORDER BY
// rank, 2.9 s and 3.7 s with 300 phrases. Warden refuses to create such
// tables (storage/policy.go, fts5DetailOption).
func TestSession_deadlineFTS5Positions(t *testing.T) {
	db := openDB(t, storage.Options{MaxMemoryBytes: abi.MaxDBMemoryBytes})
	s := session(t, db)
	for _, detail := range []string{"detail=column", "DETAIL = 'none'", "detail=\"column\"", "detail= none", "detail=[none]"} {
		if _, err := s.Exec(context.Background(), "CREATE VIRTUAL TABLE f USING fts5(x, "+detail+")", nil); !errors.Is(err, storage.ErrNotAllowed) {
			t.Errorf("fts5 with %s: got %v, want ErrNotAllowed", detail, err)
		}
	}
	// As a hostile plugin would spell it: a quoted or upper-case module
	// name, the option among others, no space (fts5 takes each of these).
	for _, using := range []string{`"fts5"(x, detail=none)`, "FTS5(x, detail='CoLuMn', columnsize=0)", "fts5(x,detail=none)"} {
		if _, err := s.Exec(context.Background(), "CREATE VIRTUAL TABLE g USING "+using, nil); !errors.Is(err, storage.ErrNotAllowed) {
			t.Errorf("USING %s: got %v, want ErrNotAllowed", using, err)
		}
	}
	// With its positions (detail=full, the default), fts5 answers from
	// them, and the deadline holds.
	mustExec(t, s, "CREATE VIRTUAL TABLE f USING fts5(x, detail=full)")
	mustExec(t, s, `INSERT INTO f(x)
		WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c LIMIT 1000000)
		SELECT 'a ' || group_concat('b', ' ') FROM c`)
	match := "f MATCH '" + strings.Repeat("a OR ", 999) + "a'"
	for _, q := range []string{
		"SELECT length(highlight(f, 0, '[', ']')) FROM f WHERE " + match,
		"SELECT length(snippet(f, 0, '[', ']', '', 10)) FROM f WHERE " + match,
		"SELECT rowid FROM f WHERE " + match + " ORDER BY rank",
	} {
		queryEndsNearDeadline(t, s, q)
	}
}
