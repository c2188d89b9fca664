// Package pgtest gives tests a fresh PostgreSQL database of their own, on
// the server that WARDEN_TEST_POSTGRES names (scripts/pg-test-server start
// prints such a URL).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the environment variable that holds the server's URL.
const EnvURL = "WARDEN_TEST_POSTGRES"

// URL returns the URL of a new, empty database created for t and dropped,
// with the plugin roles made for it, when t ends; each test gets its own,
// so that runs never interfere. Without WARDEN_TEST_POSTGRES it skips t,
// or fails it when CI is set, so that CI never passes without PostgreSQL.
func URL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvURL)
	if admin == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set, and CI is: the PostgreSQL tests must run in CI (see .ci/run)", EnvURL)
		}
		t.Skipf("%s is not set; run: WARDEN_TEST_POSTGRES=$(scripts/pg-test-server start) go test -race ./...", EnvURL)
	}
	u, err := url.Parse(admin)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		t.Fatalf("%s must be a postgres:// URL: %q", EnvURL, admin)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "warden_test_" + hex.EncodeToString(b[:])
	exec(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() {
		exec(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		dropRoles(t, admin)
	})
	u.Path = "/" + name
	return u.String()
}

// exec runs one statement on the server as the admin.
func exec(t testing.TB, admin, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// dropRoles drops the plugin roles that own nothing, the test's once its
// database is gone.
func dropRoles(t testing.TB, admin string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Errorf("connect to %s: %v", EnvURL, err)
		return
	}
	defer c.Close(ctx)
	// Plugin roles left owning nothing: this test's, now that its
	// database is gone (long names end in a hash, not "@name"), never those
	// of tests still running, which own their schemas from the transaction
	// that created them.
	rows, err := c.Query(ctx, `SELECT rolname FROM pg_roles r WHERE rolname LIKE 'plugin\_%'
		AND NOT EXISTS (SELECT 1 FROM pg_shdepend d WHERE d.refobjid = r.oid)`)
	if err != nil {
		t.Errorf("list roles: %v", err)
		return
	}
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Errorf("list roles: %v", err)
		return
	}
	for _, r := range roles {
		// Another test's cleanup may drop it first.
		_, _ = c.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{r}.Sanitize())
	}
}
