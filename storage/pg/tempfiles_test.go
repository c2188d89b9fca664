package pg_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
)

// spill is a query whose sort outgrows work_mem (4 MB by default) and
// writes about 30 MB of temporary files.
const spill = "SELECT count(*) FROM (SELECT g FROM generate_series(1, 1000000) g ORDER BY g DESC) s"

// TestSession_tempFilesBounded checks the bound on a plugin's temporary
// files: a statement that writes more fails with storage.ErrLimit, and
// the plugin's next statement runs. Without it, PostgreSQL's own
// temp_file_limit (none by default) was the only bound: a plugin's sorts
// and hashes over generate_series filled the server's disk, which every
// database on it shares, at the disk's speed until statement_timeout.
func TestSession_tempFilesBounded(t *testing.T) {
	db, _ := open(t, pg.Options{MaxTempFileBytes: 1 << 20})
	s := session(t, db, "spiller")
	if _, err := s.Query(context.Background(), spill, nil); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("a sort writing 30 MB of temporary files under a 1 MB bound: %v, want ErrLimit", err)
	}
	if got := mustQuery(t, s, "SELECT 1").Values[0][0]; fmt.Sprint(got) != "1" {
		t.Fatalf("the next statement returned %v", got)
	}
}

// TestOptions_maxTempFileBytesDefault checks that a plugin gets
// abi.MaxDBTempFileBytes of temporary files by default: the same sort
// runs.
func TestOptions_maxTempFileBytesDefault(t *testing.T) {
	db, _ := open(t, pg.Options{})
	s := session(t, db, "sorter")
	if got := mustQuery(t, s, spill).Values[0][0]; got != int64(1000000) {
		t.Fatalf("the sort counted %v rows under the default bound of %d bytes", got, abi.MaxDBTempFileBytes)
	}
}

// TestOpen_tempFileLimitOfAPlainRole: a Warden role that may not set
// temp_file_limit (not a superuser) is refused while its sessions leave
// temporary files unbounded, with the statement that fixes it; once a
// superuser has run it, Warden opens and its plugins are bounded by it.
func TestOpen_tempFileLimitOfAPlainRole(t *testing.T) {
	_, dbURL := open(t, pg.Options{}) // hardened by the superuser
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	role := fmt.Sprintf("warden_plain_%d", time.Now().UnixNano())
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN CREATEROLE",
		"GRANT CREATE ON DATABASE " + pgx.Identifier{dbName(t, c)}.Sanitize() + " TO " + role,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP OWNED BY "+role)
		_, _ = c.Exec(ctx, "DROP ROLE "+role)
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	if _, err := pg.Open(ctx, u.String(), pg.Options{}); err == nil || !strings.Contains(err.Error(), "ALTER ROLE") {
		t.Fatalf("a plain role, temporary files unbounded: %v, want the ALTER ROLE to run", err)
	}
	if _, err := c.Exec(ctx, "ALTER ROLE "+role+" SET temp_file_limit = 1024"); err != nil {
		t.Fatal(err)
	}
	db, err := pg.Open(ctx, u.String(), pg.Options{})
	if err != nil {
		t.Fatalf("a plain role whose sessions are bounded: %v", err)
	}
	defer db.Close()
	s := session(t, db, "spiller")
	if _, err := s.Query(ctx, spill, nil); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("a sort past the role's 1 MB bound: %v, want ErrLimit", err)
	}
}

// dbName returns the name of c's database.
func dbName(t *testing.T, c *pgx.Conn) string {
	t.Helper()
	var name string
	if err := c.QueryRow(context.Background(), "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestSession_tempFilesBoundedWithoutParallelWorkers: temp_file_limit
// bounds each PostgreSQL process, and a parallel plan's workers each
// inherit it, so a plugin's sort of a table of its own (about 30 MB,
// analysed as autovacuum would) wrote three external sorts at once under
// a 16 MiB bound and succeeded (a review of the bound). Plugin
// transactions now run without parallel workers: the same sort fails with
// ErrLimit, as it does in one process.
func TestSession_tempFilesBoundedWithoutParallelWorkers(t *testing.T) {
	db, dbURL := open(t, pg.Options{MaxTempFileBytes: 16 << 20})
	s := session(t, db, "par")
	mustExec(t, s, "CREATE TABLE wide AS SELECT g, (SELECT string_agg(md5((g*31+i)::text), '') FROM generate_series(1,15) i) AS pad FROM generate_series(1, 60000) g")
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `ANALYZE "plugin_par".wide`); err != nil { // autovacuum's work
		t.Fatal(err)
	}
	if _, err := s.Query(ctx, "SELECT count(*) FROM (SELECT pad FROM wide ORDER BY pad) s", nil); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("a sort needing more than the bound in one process: %v, want ErrLimit", err)
	}
}
