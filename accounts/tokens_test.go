package accounts

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/session"
)

// TestService_AuthenticateTokens checks the token pair's bytes: Nakama's
// claims in Nakama's order, a shared tid and iat, the configured lifetimes,
// each token signed with its own key.
func TestService_AuthenticateTokens(t *testing.T) {
	c := newClock()
	s := newService(t, openDB(t), c)
	sess := authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-tokens", Username: "tok", Create: true, Vars: map[string]string{"k": "v"}})
	now := c.t.Unix()
	for _, tt := range []struct {
		name, token string
		key         []byte
		exp         int64
	}{
		{"Session", sess.Token, testEncKey, now + 7200},
		{"Refresh", sess.RefreshToken, testRefreshKey, now + 7*24*3600},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parts := strings.Split(tt.token, ".")
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				t.Fatal(err)
			}
			want := regexp.MustCompile(fmt.Sprintf(`^\{"tid":"[0-9a-f-]{36}","uid":"[0-9a-f-]{36}","usn":"tok","vrs":\{"k":"v"\},"exp":%d,"iat":%d\}$`, tt.exp, now))
			if parts[0] != "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" || !want.Match(payload) {
				t.Fatalf("token %s.%s, want HS256 header and claims matching %s", parts[0], payload, want)
			}
			claims(t, s, tt.key, tt.token)
		})
	}
	sc, rc := claims(t, s, testEncKey, sess.Token), claims(t, s, testRefreshKey, sess.RefreshToken)
	if sc.TokenID != rc.TokenID || sc.UserID != rc.UserID || !session.IsUUID(sc.UserID) {
		t.Fatalf("session %+v and refresh %+v do not share tid and uid", sc, rc)
	}
	if _, err := session.Verify(testEncKey, sess.RefreshToken, c.t); !errors.Is(err, session.ErrSignature) {
		t.Fatalf("refresh token verified as a session token: %v", err)
	}
}

func TestService_Refresh(t *testing.T) {
	c := newClock()
	s := newService(t, openDB(t), c)
	ctx := context.Background()
	vars := map[string]string{"a": "1"}
	sess := authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-refresh", Username: "ref", Create: true, Vars: vars})
	first := claims(t, s, testEncKey, sess.Token)
	c.advance(time.Minute)

	tests := []struct {
		name     string
		token    string
		vars     map[string]string
		wantVars map[string]string
		wantCode abi.Code
		wantMsg  string
	}{
		{"KeepsVars", sess.RefreshToken, nil, vars, 0, ""},
		{"EmptyVarsKeep", sess.RefreshToken, map[string]string{}, vars, 0, ""},
		{"NewVars", sess.RefreshToken, map[string]string{"b": "2"}, map[string]string{"b": "2"}, 0, ""},
		{"ErrEmpty", "", nil, nil, abi.CodeInvalidArgument, msgRefreshRequired},
		{"ErrSessionToken", sess.Token, nil, nil, abi.CodeUnauthenticated, msgRefreshInvalid},
		{"ErrGarbage", "a.b.c", nil, nil, abi.CodeUnauthenticated, msgRefreshInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Refresh(ctx, tt.token, tt.vars)
			if tt.wantCode != 0 {
				wantError(t, err, tt.wantCode, tt.wantMsg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			nc := claims(t, s, testEncKey, got.Token)
			if got.Created || nc.TokenID != first.TokenID || nc.IssuedAt != first.IssuedAt ||
				nc.ExpiresAt != c.t.Unix()+7200 || !maps.Equal(nc.Vars, tt.wantVars) {
				t.Fatalf("refreshed claims %+v (created %v), first %+v", nc, got.Created, first)
			}
			claims(t, s, testRefreshKey, got.RefreshToken)
		})
	}
	t.Run("ErrExpired", func(t *testing.T) {
		c.advance(8 * 24 * time.Hour)
		defer c.advance(-8 * 24 * time.Hour)
		_, err := s.Refresh(ctx, sess.RefreshToken, nil)
		wantError(t, err, abi.CodeUnauthenticated, msgRefreshInvalid)
		if !errors.Is(err, session.ErrExpired) {
			t.Fatalf("error %v does not wrap session.ErrExpired", err)
		}
	})
	t.Run("ErrUserGone", func(t *testing.T) {
		tok, err := session.Sign(testRefreshKey, session.Claims{TokenID: session.NewTokenID(), UserID: session.NewTokenID(), ExpiresAt: c.t.Unix() + 60})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Refresh(ctx, tok, nil)
		wantError(t, err, abi.CodeNotFound, msgUserNotFound)
	})
}

func TestService_Logout(t *testing.T) {
	c := newClock()
	s := newService(t, openDB(t), c)
	ctx := context.Background()
	login := func() (Session, session.Claims) {
		sess := authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-logout", Username: "out", Create: true})
		return sess, claims(t, s, testEncKey, sess.Token)
	}
	other := authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-other", Create: true})
	otherClaims := claims(t, s, testEncKey, other.Token)

	t.Run("SessionTokenRevokesSession", func(t *testing.T) {
		sess, cl := login()
		keep, keepClaims := login()
		if err := s.Logout(ctx, cl.UserID, sess.Token, ""); err != nil {
			t.Fatal(err)
		}
		wantRevoked(t, s, cl, sess.RefreshToken)
		if err := s.SessionValid(ctx, keepClaims); err != nil {
			t.Fatalf("another session of the user was revoked: %v", err)
		}
		if _, err := s.Refresh(ctx, keep.RefreshToken, nil); err != nil {
			t.Fatalf("another session's refresh failed: %v", err)
		}
	})
	t.Run("RefreshTokenOnly", func(t *testing.T) {
		sess, cl := login()
		if err := s.Logout(ctx, cl.UserID, "", sess.RefreshToken); err != nil {
			t.Fatal(err)
		}
		wantRevoked(t, s, cl, sess.RefreshToken)
	})
	t.Run("AllTokens", func(t *testing.T) {
		sess, cl := login()
		if err := s.Logout(ctx, cl.UserID, "", ""); err != nil {
			t.Fatal(err)
		}
		wantRevoked(t, s, cl, sess.RefreshToken)
		if err := s.SessionValid(ctx, otherClaims); err != nil {
			t.Fatalf("another user's session was revoked: %v", err)
		}
		_, fresh := login() // in the same second as the logout
		if err := s.SessionValid(ctx, fresh); err != nil {
			t.Fatalf("a login right after the logout is refused: %v", err)
		}
		if err := s.Logout(ctx, cl.UserID, "", ""); err != nil {
			t.Fatal(err)
		}
		if err := s.SessionValid(ctx, fresh); !errors.Is(err, ErrRevoked) {
			t.Fatalf("a second logout in the same second left the new login valid: %v", err)
		}
	})
	tests := []struct {
		name, token, refresh, msg string
	}{
		{"ErrOtherUsersToken", other.Token, "", msgLogoutSessionBad},
		{"ErrOtherUsersRefresh", "", other.RefreshToken, msgLogoutRefreshBad},
		{"ErrGarbageToken", "x.y.z", "", msgLogoutSessionBad},
		{"ErrRefreshAsSession", other.RefreshToken, "", msgLogoutSessionBad},
	}
	_, me := login()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, s.Logout(ctx, me.UserID, tt.token, tt.refresh), abi.CodeInvalidArgument, tt.msg)
		})
	}
}

// wantRevoked checks that the session token of claims c and refresh are
// both refused as revoked.
func wantRevoked(t *testing.T, s *Service, c session.Claims, refresh string) {
	t.Helper()
	if err := s.SessionValid(context.Background(), c); !errors.Is(err, ErrRevoked) {
		t.Fatalf("SessionValid = %v, want ErrRevoked", err)
	}
	if _, err := s.Refresh(context.Background(), refresh, nil); !errors.Is(err, ErrRevoked) {
		t.Fatalf("Refresh = %v, want ErrRevoked", err)
	}
}

// TestService_LogoutSurvivesRestart revokes a session, opens a new Service
// on the same database, and checks the session stays revoked until its
// revocation expires and is pruned.
func TestService_LogoutSurvivesRestart(t *testing.T) {
	db := openDB(t)
	c := newClock()
	s := newService(t, db, c)
	ctx := context.Background()
	sess := authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-restart", Create: true})
	cl := claims(t, s, testEncKey, sess.Token)
	if err := s.Logout(ctx, cl.UserID, sess.Token, sess.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx, cl.UserID, "", ""); err != nil {
		t.Fatal(err)
	}

	s = newService(t, db, c)
	if err := s.SessionValid(ctx, cl); !errors.Is(err, ErrRevoked) {
		t.Fatalf("SessionValid after restart = %v, want ErrRevoked", err)
	}
	count := func() int {
		var n int
		if err := db.Writer().QueryRow("SELECT count(*) FROM warden_session_revocations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("%d revocations stored, want 1 (the revocation of all tokens replaces the single one it covers)", n)
	}

	c.advance(7*24*time.Hour + time.Second) // every covered token has expired
	other := authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-prune", Create: true})
	if err := s.Logout(ctx, claims(t, s, testEncKey, other.Token).UserID, other.Token, ""); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d revocations after pruning, want only the new one", n)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.revoked.tokens) != 1 || len(s.revoked.users) != 0 {
		t.Fatalf("in memory after pruning: %+v", s.revoked)
	}
}

func TestService_issueErrVarsTooLarge(t *testing.T) {
	s := newService(t, openDB(t), nil)
	big := map[string]string{"v": strings.Repeat("x", session.MaxTokenBytes)}
	_, err := s.Authenticate(context.Background(), Credentials{Kind: KindCustom, ID: "custom-bigvars", Create: true, Vars: big})
	wantError(t, err, abi.CodeInvalidArgument, msgVarsTooLarge)
}

// TestService_logoutsPerUserBounded checks that one user's logouts cannot
// grow the revocations without bound: a client with an account could log
// in and out a thousand times a second, each logout a row kept for the
// refresh tokens' lifetime and an entry in every node's memory. Past
// maxRevokedTokensPerUser revoked tokens, a logout revokes every token of
// the user instead, which replaces the single ones; every session logged
// out stays refused, and the user can still log in.
func TestService_logoutsPerUserBounded(t *testing.T) {
	c := newClock()
	db := openDB(t)
	s := newService(t, db, c)
	ctx := context.Background()
	other := authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-bystander", Create: true})
	otherClaims := claims(t, s, testEncKey, other.Token)
	type loggedOut struct {
		c       session.Claims
		refresh string
	}
	var out []loggedOut
	var userID string
	for i := range maxRevokedTokensPerUser + 20 {
		if i%10 == 0 {
			c.advance(time.Second)
		}
		sess := authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-cycler", Create: true})
		cl := claims(t, s, testEncKey, sess.Token)
		userID = cl.UserID
		if err := s.Logout(ctx, cl.UserID, sess.Token, ""); err != nil {
			t.Fatalf("logout %d: %v", i, err)
		}
		out = append(out, loggedOut{cl, sess.RefreshToken})
	}
	var rows int
	if err := db.Reader().QueryRow("SELECT count(*) FROM warden_session_revocations WHERE user_id = $1", userID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows > maxRevokedTokensPerUser+1 {
		t.Fatalf("%d revocation rows for one user after %d logouts, want at most %d", rows, len(out), maxRevokedTokensPerUser+1)
	}
	s.mu.RLock()
	held := len(s.revoked.tokens)
	s.mu.RUnlock()
	if held > maxRevokedTokensPerUser {
		t.Fatalf("%d revoked tokens held in memory, want at most %d", held, maxRevokedTokensPerUser)
	}
	for i, o := range out {
		if err := s.SessionValid(ctx, o.c); !errors.Is(err, ErrRevoked) {
			t.Fatalf("logged-out session %d: SessionValid = %v, want ErrRevoked", i, err)
		}
	}
	if err := s.SessionValid(ctx, otherClaims); err != nil {
		t.Fatalf("another user's session was revoked: %v", err)
	}
	fresh := authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-cycler"})
	if err := s.SessionValid(ctx, claims(t, s, testEncKey, fresh.Token)); err != nil {
		t.Fatalf("a login after the logouts is refused: %v", err)
	}
}
