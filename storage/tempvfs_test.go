package storage

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
)

// sortSQL sorts n rows of about size bytes each in random order, which
// SQLite spills to temporary files past its cache.
func sortSQL(n, size int) string {
	return `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT ` + strconv.Itoa(n) + `)
		SELECT length(b) FROM (SELECT zeroblob(` + strconv.Itoa(size) + `) || x AS b FROM c ORDER BY random()) LIMIT 1`
}

// TestTempVFS_givesBack: what a statement's temporary files held is given
// back when they close, refused or not, so a plugin's bound is not worn
// down by the statements it ran: with a bound of 64 MiB, sorts of 40 MB
// run one after another, before and after a refused one, and the count is
// 0 between them.
func TestTempVFS_givesBack(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "p.db"), Options{MaxTempBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := db.NewSession()
	defer s.Close()
	ctx := context.Background()
	for i, q := range []string{sortSQL(40, 1e6), sortSQL(40, 1e6), sortSQL(1000, 1e6), sortSQL(40, 1e6), sortSQL(40, 1e6)} {
		_, err := s.Query(ctx, q, nil)
		if refused := i == 2; refused != errors.Is(err, ErrLimit) {
			t.Fatalf("statement %d: %v", i, err)
		}
		if n := db.temp.used.Load(); n != 0 {
			t.Fatalf("after statement %d its temporary files still count %d bytes", i, n)
		}
	}
}
