package storage_test

import (
	"errors"
	"testing"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// TestSession_deadlineGeopolyOverlap: geopoly's scalar functions are
// registered on every connection (only its virtual table is refused), and
// geopoly_overlap and geopoly_within sweep the two polygons' segments
// along x, walking every active segment at each distinct x: one call
// costs the number of vertices times the segments that span a point. A
// zigzag of n vertices whose segments all span nearly the same x range
// makes that n^2/2, in one allocation made before the sweep, and SQLite
// never interrupts it. 40,000 vertices (a 320 KB blob; the 4 MiB value
// limit holds some 500,000) against a triangle elsewhere: some 15 s.
// Both are refused by policy now, as the geopoly table is.
func TestSession_deadlineGeopolyOverlap(t *testing.T) {
	db := openDB(t, storage.Options{MaxMemoryBytes: abi.MaxDBMemoryBytes})
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE g(zigzag BLOB, triangle BLOB)")
	mustExec(t, s, `INSERT INTO g
		WITH RECURSIVE c(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM c LIMIT 20000)
		SELECT geopoly_blob((SELECT '[' || group_concat('[' || (k * 1e-5) || ',' || (2 * k) || '],[' ||
			(1 - k * 1e-5) || ',' || (2 * k + 1) || ']', ',') || ',[0,0]]' FROM c)),
			geopoly_blob('[[10,0],[11,0],[11,1],[10,0]]')`)
	for _, f := range []string{"geopoly_overlap", "geopoly_within"} {
		err := queryEndsNearDeadline(t, s, "SELECT "+f+"(zigzag, triangle) FROM g")
		if !errors.Is(err, storage.ErrNotAllowed) {
			t.Errorf("%s: got %v, want ErrNotAllowed", f, err)
		}
	}
}
