package pg_test

import (
	"context"
	"hash/fnv"
	"strconv"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage/pg"
)

// fnvTwins returns two plugin names whose schemas' names ("plugin_" and
// the name) have the same FNV-32a hash, found as an attacker would: by
// trying names until two collide (some 80,000 for even odds).
func fnvTwins(t *testing.T) (string, string) {
	seen := map[uint32]string{}
	for i := range 1 << 20 {
		name := "c" + strconv.Itoa(i)
		h := fnv.New32a()
		_, _ = h.Write([]byte("plugin_" + name))
		if other, ok := seen[h.Sum32()]; ok {
			return other, name
		}
		seen[h.Sum32()] = name
	}
	t.Fatal("no two names collide")
	return "", ""
}

// TestSession_ddlLockIsThePlugins: a plugin's DDL lock, which its
// schema changes hold to their transaction's end, was keyed by a 32-bit
// FNV hash of its schema's name, so a plugin named to collide with
// another held that one's lock too: while its transaction that created a
// table stayed open, the other plugin's CREATE TABLE IF NOT EXISTS (what
// its warden_init runs at every load) waited the lock timeout and failed
// with ErrBusy, and its hot reload with it. A plugin's schema changes must
// not wait on another plugin's.
func TestSession_ddlLockIsThePlugins(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t, pg.Options{BusyTimeout: 2 * time.Second})
	x, y := fnvTwins(t)
	a, b := session(t, db, x), session(t, db, y)
	if err := a.Begin(ctx, true); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Rollback(ctx) }()
	mustExec(t, a, "CREATE TABLE held (k BIGINT)") // a holds its DDL lock to its end
	start := time.Now()
	if _, err := b.Exec(ctx, "CREATE TABLE IF NOT EXISTS own (k BIGINT)", nil); err != nil {
		t.Fatalf("plugin %s's CREATE TABLE while plugin %s's schema change is open: %v after %v", y, x, err, time.Since(start).Round(time.Millisecond))
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("plugin %s's CREATE TABLE waited %v on plugin %s's schema change", y, took.Round(time.Millisecond), x)
	}
}
