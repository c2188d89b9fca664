package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sortSQL sorts n rows of about size bytes each in random order, which
// SQLite spills to temporary files past its cache.
func sortSQL(n, size int) string {
	return `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT ` + strconv.Itoa(n) + `)
		SELECT length(b) FROM (SELECT zeroblob(` + strconv.Itoa(size) + `) || x AS b FROM c ORDER BY random()) LIMIT 1`
}

// TestBoundVFS_tempGivesBack: what a statement's temporary files held is given
// back when they close, refused or not, so a plugin's bound is not worn
// down by the statements it ran: with a bound of 64 MiB, sorts of 40 MB
// run one after another, before and after a refused one, and the count is
// 0 between them.
func TestBoundVFS_tempGivesBack(t *testing.T) {
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
		if n := db.vfs.tempUsed.Load(); n != 0 {
			t.Fatalf("after statement %d its temporary files still count %d bytes", i, n)
		}
	}
}

// TestBoundVFS_heapGivesBack: every block charged to a database's memory
// budget is given back when it is freed, reallocated blocks included, so
// refused statements do not wear the budget down: a row of 60 values of
// 4 MB is refused for memory ten times on a 64 MiB budget, a statement
// within it runs after, and once the database is closed its budget is 0.
func TestBoundVFS_heapGivesBack(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "p.db"), Options{MaxMemoryBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	heap := db.vfs.heap
	s := db.NewSession()
	ctx := context.Background()
	if _, err := s.Exec(ctx, "CREATE TABLE t (v)", nil); err != nil {
		t.Fatal(err)
	}
	wide := "SELECT " + strings.TrimSuffix(strings.Repeat("zeroblob(4000000) || random(), ", 60), ", ")
	for i := range 10 {
		if _, err := s.Query(ctx, wide, nil); !errors.Is(err, ErrLimit) {
			t.Fatalf("wide row %d: %v, want ErrLimit", i, err)
		}
		// group_concat grows its value by realloc.
		if _, err := s.Exec(ctx, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000) INSERT INTO t SELECT group_concat(zeroblob(1000) || x) FROM c", nil); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	if used := heap.used.Load(); used <= 0 || used > 16<<20 {
		t.Fatalf("with the connections open, the budget counts %d bytes, want some and under 16 MiB", used)
	}
	_ = s.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if used := heap.used.Load(); used != 0 {
		t.Fatalf("after Close the budget still counts %d bytes", used)
	}
}

// TestRowPeek_driverFields: readRows measures rows through the driver's
// unexported fields (rowPeek); a driver whose rows are laid out otherwise
// would lose that silently, so this fails instead.
func TestRowPeek_driverFields(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "p.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Reader().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Raw(func(dc any) error {
		ds, err := prepareDriver(context.Background(), dc, "SELECT 1")
		if err != nil {
			return err
		}
		defer ds.Close()
		dr, err := ds.(driver.StmtQueryContext).QueryContext(context.Background(), nil)
		if err != nil {
			return err
		}
		defer dr.Close()
		if peekFor(dr) == nil {
			t.Errorf("no rowPeek for the driver's %T", dr)
		}
		if tls, db := driverConn(dc); tls == nil || db == 0 {
			t.Errorf("no TLS or handle found in the driver's %T", dc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
