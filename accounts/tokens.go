package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/session"
)

// Messages of token refusals, as Nakama words them, except
// msgVarsTooLarge, which is Warden's.
const (
	msgRefreshRequired  = "Refresh token is required."
	msgRefreshInvalid   = "Refresh token invalid or expired."
	msgLogoutSessionBad = "Session token invalid."
	msgLogoutRefreshBad = "Refresh token invalid."
	msgLogoutFailed     = "Error processing session logout."
	msgVarsTooLarge     = "Session vars too large."
	msgTokenIssueFailed = "Error generating session token."
)

// Session is a token pair issued to a client: Nakama's api.Session.
type Session struct {
	// Created reports that the authentication created the account.
	Created bool
	// Token is the session token, signed with the encryption key.
	Token string
	// RefreshToken is the refresh token, signed with the refresh key.
	RefreshToken string
}

// Authenticate finds, or creates, the user that c names and issues a new
// session for it, with a new token ID and c.Vars.
//
// # Errors
//
// An *Error with Nakama's code and message: 400 for input that breaks
// Nakama's rules, 404 when the user does not exist and c.Create is false
// (or for an unknown username), 401 for a wrong password, 409 when a new
// account's username is taken, 500 when the database fails.
func (s *Service) Authenticate(ctx context.Context, c Credentials) (Session, error) {
	c, err := c.check()
	if err != nil {
		return Session{}, err
	}
	u, created, err := s.findOrCreate(ctx, c)
	if err != nil {
		return Session{}, s.unavailable(err)
	}
	if err := s.loadUserRevocation(ctx, u.id); err != nil {
		return Session{}, s.unavailable(internal(msgFindUser, err))
	}
	return s.issue(session.Claims{TokenID: session.NewTokenID(), UserID: u.id, Username: u.username, Vars: c.Vars, IssuedAt: s.issueTime(u.id)}, created)
}

// issue signs a session token and a refresh token for c, whose ExpiresAt
// it sets from the configured lifetimes. Both share c's token ID and issue
// time, as in Nakama.
func (s *Service) issue(c session.Claims, created bool) (Session, error) {
	now := s.now()
	c.ExpiresAt = now.Add(s.cfg.SessionExpiry).Unix()
	token, err := session.Sign(s.cfg.EncryptionKey, c)
	if err != nil {
		return Session{}, internal(msgTokenIssueFailed, err)
	}
	c.ExpiresAt = now.Add(s.cfg.RefreshExpiry).Unix()
	refresh, err := session.Sign(s.cfg.RefreshKey, c)
	if err != nil {
		return Session{}, internal(msgTokenIssueFailed, err)
	}
	if len(token) > session.MaxTokenBytes || len(refresh) > session.MaxTokenBytes {
		// Such a token would never verify; Nakama issues it anyway.
		return Session{}, invalid(msgVarsTooLarge)
	}
	return Session{Created: created, Token: token, RefreshToken: refresh}, nil
}

// Refresh checks a refresh token and issues a new token pair with the same
// token ID and issue time, the user's current username, and vars, or the
// token's vars when vars is empty (over gRPC, Nakama cannot tell an empty
// map from none).
//
// # Errors
//
// Nakama's: 400 "Refresh token is required." for an empty token, 401
// "Refresh token invalid or expired." for a token that does not verify or
// was revoked, 404 "User account not found." when the user is gone.
func (s *Service) Refresh(ctx context.Context, token string, vars map[string]string) (Session, error) {
	if token == "" {
		return Session{}, invalid(msgRefreshRequired)
	}
	c, err := session.Verify(s.cfg.RefreshKey, token, s.now())
	if err != nil {
		return Session{}, refuse(abi.CodeUnauthenticated, msgRefreshInvalid, err)
	}
	c.UserID = strings.ToLower(c.UserID)
	if err := s.sessionValid(ctx, c); errors.Is(err, ErrUnavailable) {
		return Session{}, refuse(abi.CodeUnavailable, msgRefreshInvalid, err)
	} else if err != nil {
		return Session{}, refuse(abi.CodeUnauthenticated, msgRefreshInvalid, err)
	}
	if c.Username, err = s.username(ctx, c.UserID); err != nil {
		return Session{}, s.unavailable(err)
	}
	if len(vars) > 0 {
		c.Vars = vars
	}
	return s.issue(c, false)
}

// Logout revokes the session of userID that token and refreshToken belong
// to; either may be empty. With both empty, it revokes every token of the
// user issued so far. The revocation is stored, so it survives restarts,
// and covers the whole session: every token sharing the token ID, the
// refresh token included, even when only the session token is given (in
// Nakama that refresh token still refreshes, into tokens that are refused).
//
// # Errors
//
// Nakama's 400 "Session token invalid." or "Refresh token invalid." for a
// token that does not verify or belongs to another user, and 500 when the
// revocation cannot be stored.
func (s *Service) Logout(ctx context.Context, userID, token, refreshToken string) error {
	var ids []string
	for _, t := range []struct {
		token, msg string
		key        []byte
	}{{token, msgLogoutSessionBad, s.cfg.EncryptionKey}, {refreshToken, msgLogoutRefreshBad, s.cfg.RefreshKey}} {
		if t.token == "" {
			continue
		}
		c, err := session.Verify(t.key, t.token, s.now())
		if err != nil {
			return refuse(abi.CodeInvalidArgument, t.msg, err)
		}
		if !strings.EqualFold(c.UserID, userID) {
			return refuse(abi.CodeInvalidArgument, t.msg, fmt.Errorf("token of user %s", c.UserID))
		}
		ids = append(ids, c.TokenID)
	}
	if len(ids) == 0 {
		ids = []string{allTokens}
	}
	if err := s.revoke(ctx, strings.ToLower(userID), ids); err != nil {
		return s.unavailable(internal(msgLogoutFailed, err))
	}
	return nil
}

// SessionValid returns nil when the verified session token c was not
// revoked by a logout. It implements httpapi.SessionChecker and costs no
// query, except on a cluster node that does not hear the other nodes'
// revocations at the moment (see Listen).
//
// # Errors
//
// An error wrapping ErrRevoked, or ErrUnavailable when the database could
// not be asked.
func (s *Service) SessionValid(ctx context.Context, c session.Claims) error {
	return s.sessionValid(ctx, c)
}
