package conformance

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// openPostgres opens the PostgreSQL engine on a fresh database (skipped
// without WARDEN_TEST_POSTGRES, see pgtest).
func openPostgres(t *testing.T) storage.Databases {
	t.Helper()
	dbs, err := pg.Open(context.Background(), pgtest.URL(t), pg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dbs.Close() })
	return dbs
}

// goldenPostgresPath is the transcript on PostgreSQL. It differs from the
// SQLite one only in the db RPC's answer (TestGolden_postgres checks): the
// db RPC stores values of every type in one BLOB column, which only
// SQLite's dynamic typing allows (ABI.md section 6), so on PostgreSQL
// (BLOB is BYTEA) the insert fails, and db_engine answers 2.
const goldenPostgresPath = "testdata/golden-postgres.txt"

// TestConformance_postgres runs the conformance table against each
// language's plugin with its data on PostgreSQL, and compares the
// transcript with golden-postgres.txt; -update rewrites that file from the
// Rust plugin's transcript.
func TestConformance_postgres(t *testing.T) {
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			wasm, err := os.ReadFile(filepath.Join(lang, pluginName+".wasm"))
			if err != nil {
				t.Fatalf("no %s plugin: %v", lang, err)
			}
			got := transcript(t, wasm, openPostgres)
			if *update && lang == languages[0] {
				if err := os.WriteFile(goldenPostgresPath, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", goldenPostgresPath)
				return
			}
			want, err := os.ReadFile(goldenPostgresPath)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(got, string(want)); d != "" {
				t.Errorf("transcript on PostgreSQL differs from %s (regenerate from rust with -update):\n%s", goldenPostgresPath, d)
			}
		})
	}
}

// TestGolden_postgres checks that the two golden transcripts differ in the
// db RPC's answer only: every other exchange, the log and the table left
// behind are the same on both engines.
func TestGolden_postgres(t *testing.T) {
	sqlite, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	postgres, err := os.ReadFile(goldenPostgresPath)
	if err != nil {
		t.Fatal(err)
	}
	a, b := strings.Split(string(sqlite), "\n\n> "), strings.Split(string(postgres), "\n\n> ")
	if len(a) != len(b) {
		t.Fatalf("%d exchanges on SQLite, %d on PostgreSQL", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] && !strings.HasPrefix(a[i], "POST /v2/rpc/db?http_key=") {
			t.Errorf("exchange %d differs:\n%s", i, diff(b[i], a[i]))
		}
	}
}
