package pg_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
)

// TestSession_onePluginCannotTakeThePool is the attack of a plugin that
// denies every other plugin its database: the connection pool is shared by
// all plugins, and a plugin running as many calls at once as it has
// instances, each holding a transaction open (while it waits on an
// outbound request, say), took every connection; the other plugins' calls
// failed with ErrBusy until it let go. A plugin holds at most half the
// pool.
func TestSession_onePluginCannotTakeThePool(t *testing.T) {
	db, _ := open(t, pg.Options{MaxConns: 4, BusyTimeout: 300 * time.Millisecond})
	ctx := context.Background()
	victim := session(t, db, "victim") // set up first: setting up needs a connection too
	held := 0
	for range 4 {
		s := session(t, db, "hog")
		err := s.Begin(ctx, true)
		switch {
		case err == nil:
			held++
			defer s.Rollback(ctx)
		case !errors.Is(err, storage.ErrBusy):
			t.Fatalf("begin: %v, want nil or ErrBusy", err)
		}
	}
	if held != 2 {
		t.Errorf("one plugin holds %d of the pool's 4 connections, want 2", held)
	}
	mustQuery(t, victim, "SELECT 1")
}
