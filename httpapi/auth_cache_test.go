package httpapi

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestServer_sessionCache checks that a remembered session token is as
// safe as a freshly verified one: a revocation refuses it at once, its
// expiry refuses it, and a token one byte away from it is verified afresh
// and refused.
func TestServer_sessionCache(t *testing.T) {
	var clock atomic.Int64 // Unix seconds
	clock.Store(time.Now().Unix())
	sessions := &checkSessions{}
	s := startServer(t, Config{Sessions: sessions, now: func() time.Time { return time.Unix(clock.Load(), 0) }})
	c := validClaims()
	c.ExpiresAt = clock.Load() + 60
	tok := token(t, testEncKey, c)
	const path = "/v2/rpc/echo?unwrap"
	call := func(tok string) int {
		t.Helper()
		return do(t, s, "POST", path, auth(tok), "x").status
	}
	for i := range 3 { // the first verifies, the others hit the cache
		if got := call(tok); got != http.StatusOK {
			t.Fatalf("call %d: status %d, want 200", i, got)
		}
	}
	t.Run("OneByteOff", func(t *testing.T) {
		for _, i := range []int{len(tok) - 1, len(tok) / 2, 0} {
			other := tok[:i] + string(tok[i]^1) + tok[i+1:]
			if got := call(other); got != http.StatusUnauthorized {
				t.Errorf("token with byte %d changed: status %d, want 401", i, got)
			}
		}
		if got := call(tok); got != http.StatusOK {
			t.Fatalf("the original token: status %d, want 200", got)
		}
	})
	t.Run("Revoked", func(t *testing.T) {
		before := sessions.count()
		sessions.revoke(c.TokenID)
		if got := call(tok); got != http.StatusUnauthorized {
			t.Fatalf("revoked token: status %d, want 401", got)
		}
		if sessions.count() != before+1 {
			t.Fatalf("SessionChecker asked %d times, want once per request", sessions.count()-before)
		}
		sessions.revoke("")
		if got := call(tok); got != http.StatusOK {
			t.Fatalf("after the revocation was lifted: status %d, want 200", got)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		clock.Store(c.ExpiresAt)
		if got := call(tok); got != http.StatusUnauthorized {
			t.Fatalf("expired token: status %d, want 401", got)
		}
		clock.Store(c.ExpiresAt - 1) // a clock that went back finds no stale entry either
		if got := call(tok); got != http.StatusOK {
			t.Fatalf("token before its expiry: status %d, want 200", got)
		}
	})
}

// revoke makes id the revoked token ID; "" revokes none.
func (c *checkSessions) revoke(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.revoked = id
}

// count returns the number of sessions checked.
func (c *checkSessions) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
