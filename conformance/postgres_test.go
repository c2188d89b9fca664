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

// Engine answers of the db RPC's step 6: the only line of the transcript
// that differs between the engines.
const (
	engineSQLite   = "\nengine=sqlite\n"
	enginePostgres = "\nengine=postgresql\n"
)

// goldenPostgres returns golden.txt with the db RPC's engine answer for
// PostgreSQL: the transcript every plugin must produce with its data there.
func goldenPostgres(t *testing.T) string {
	t.Helper()
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(want), engineSQLite); n != 1 {
		t.Fatalf("%s has %q %d times, want once", goldenPath, engineSQLite, n)
	}
	return strings.Replace(string(want), engineSQLite, enginePostgres, 1)
}

// TestConformance_postgres runs the conformance table against each
// language's plugin with its data on PostgreSQL, and compares the
// transcript with golden.txt byte for byte, but for the engine that the db
// RPC names: the same statements give the same answers on both engines.
func TestConformance_postgres(t *testing.T) {
	want := goldenPostgres(t)
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			wasm, err := os.ReadFile(filepath.Join(lang, pluginName+".wasm"))
			if err != nil {
				t.Fatalf("no %s plugin: %v", lang, err)
			}
			got := transcript(t, wasm, openPostgres)
			if d := diff(got, want); d != "" {
				t.Errorf("transcript on PostgreSQL differs from %s (with %q):\n%s", goldenPath, strings.TrimSpace(enginePostgres), d)
			}
		})
	}
}
