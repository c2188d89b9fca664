package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/session"
)

// waitSessions polls userID's session records until ok accepts them: they
// are written off the request path, shortly after.
func waitSessions(t *testing.T, s *Service, userID string, ok func([]SessionRecord) bool) []SessionRecord {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		recs, err := s.Sessions(context.Background(), userID)
		if err != nil {
			t.Fatal(err)
		}
		if ok(recs) {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("session records never got there: %+v", recs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestService_sessions checks the records of issued sessions: written at
// login with the client's address, updated by a refresh, listed per user
// with their revocation, and revoked one by one or all at once.
func TestService_sessions(t *testing.T) {
	c := newClock()
	s := newService(t, openDB(t), c)
	start := c.t
	ctx := WithClientAddr(context.Background(), "203.0.113.7")
	creds := Credentials{Kind: KindCustom, ID: "custom-sessions-01", Username: "erin", Create: true}
	first, err := s.Authenticate(ctx, creds)
	if err != nil {
		t.Fatal(err)
	}
	fc := claims(t, s, testEncKey, first.Token)
	recs := waitSessions(t, s, fc.UserID, func(r []SessionRecord) bool { return len(r) == 1 })
	r := recs[0]
	if r.TokenID != fc.TokenID || r.UserID != fc.UserID || !r.IssuedAt.Equal(start) || !r.ExpiresAt.Equal(start.Add(DefaultSessionExpiry)) ||
		!r.RefreshExpiresAt.Equal(start.Add(DefaultRefreshExpiry)) || r.ClientAddr != "203.0.113.7" || r.Revoked {
		t.Fatalf("record %+v", r)
	}

	t.Run("refresh", func(t *testing.T) {
		c.advance(time.Hour)
		if _, err := s.Refresh(WithClientAddr(ctx, "198.51.100.2"), first.RefreshToken, nil); err != nil {
			t.Fatal(err)
		}
		recs := waitSessions(t, s, fc.UserID, func(r []SessionRecord) bool { return len(r) == 1 && r[0].RefreshedAt.Equal(c.t) })
		if r := recs[0]; r.ClientAddr != "198.51.100.2" || !r.IssuedAt.Equal(start) || !r.ExpiresAt.Equal(c.t.Add(DefaultSessionExpiry)) {
			t.Fatalf("record after a refresh %+v: want the first issue time, new expiries and address", r)
		}
	})

	c.advance(time.Second)
	second := authenticate(t, s, Credentials{Kind: KindCustom, ID: creds.ID})
	sc := claims(t, s, testEncKey, second.Token)
	waitSessions(t, s, fc.UserID, func(r []SessionRecord) bool { return len(r) == 2 && r[0].TokenID == sc.TokenID })

	t.Run("FindAccount", func(t *testing.T) {
		for _, q := range []string{"erin", " erin ", fc.UserID, strings.ToUpper(fc.UserID)} {
			a, err := s.FindAccount(context.Background(), q)
			if err != nil || a == nil || a.UserID != fc.UserID || a.Username != "erin" {
				t.Fatalf("FindAccount(%q) = %+v, %v", q, a, err)
			}
		}
		for _, q := range []string{"nobody", "00000000-0000-4000-8000-000000000000"} {
			if a, err := s.FindAccount(context.Background(), q); a != nil || err != nil {
				t.Fatalf("FindAccount(%q) = %+v, %v; want nil, nil", q, a, err)
			}
		}
	})

	t.Run("RevokeOne", func(t *testing.T) {
		if err := s.RevokeSession(context.Background(), strings.ToUpper(fc.UserID), fc.TokenID); err != nil {
			t.Fatal(err)
		}
		if err := s.SessionValid(context.Background(), fc); !errors.Is(err, ErrRevoked) {
			t.Fatalf("first session after its revocation: %v, want ErrRevoked", err)
		}
		if err := s.SessionValid(context.Background(), sc); err != nil {
			t.Fatalf("second session after the first's revocation: %v", err)
		}
		recs, err := s.Sessions(context.Background(), fc.UserID)
		if err != nil || len(recs) != 2 || recs[0].Revoked || !recs[1].Revoked {
			t.Fatalf("records %+v, %v: want the first revoked, the second not", recs, err)
		}
	})

	t.Run("RevokeAll", func(t *testing.T) {
		if err := s.RevokeSession(context.Background(), fc.UserID, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.SessionValid(context.Background(), sc); !errors.Is(err, ErrRevoked) {
			t.Fatalf("second session after revoking all: %v, want ErrRevoked", err)
		}
		recs, err := s.Sessions(context.Background(), fc.UserID)
		if err != nil || len(recs) != 2 || !recs[0].Revoked || !recs[1].Revoked {
			t.Fatalf("records %+v, %v: want both revoked", recs, err)
		}
	})

	t.Run("ExpiredNotListed", func(t *testing.T) {
		c.advance(DefaultRefreshExpiry + time.Hour)
		if recs, err := s.Sessions(context.Background(), fc.UserID); err != nil || len(recs) != 0 {
			t.Fatalf("records after every refresh token expired: %+v, %v", recs, err)
		}
	})
}

// TestService_sessionRowsPerUserBounded checks that one user's logins
// cannot grow the session records without bound: only the newest
// maxSessionRowsPerUser are kept (a record is for the console; dropping
// it revokes nothing).
func TestService_sessionRowsPerUserBounded(t *testing.T) {
	c := newClock()
	db := openDB(t)
	s := newService(t, db, c)
	var last session.Claims
	for i := range maxSessionRowsPerUser + 30 {
		if i%10 == 0 {
			c.advance(time.Second)
		}
		authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-logins", Create: true})
	}
	c.advance(time.Second) // the last login alone in its second: it is listed first
	last = claims(t, s, testEncKey, authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-logins"}).Token)
	recs := waitSessions(t, s, last.UserID, func(r []SessionRecord) bool { return len(r) > 0 && r[0].TokenID == last.TokenID })
	if len(recs) > maxSessionRowsPerUser {
		t.Fatalf("%d session records kept for one user, want at most %d", len(recs), maxSessionRowsPerUser)
	}
}
