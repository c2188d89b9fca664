package accounts

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/session"
)

// allTokens is the token_id of a revocation of every token of a user.
const allTokens = ""

// pruneEvery is the least time, in seconds, between two prunings of expired
// revocations.
const pruneEvery = 60

// maxRevokedTokensPerUser bounds the single tokens of one user that are
// revoked at once: a logout past it revokes every token of the user
// instead, which replaces them. A client with an account could otherwise
// log in and out a thousand times a second, each logout a row kept for
// the refresh tokens' lifetime and an entry in every node's memory.
const maxRevokedTokensPerUser = 100

// revocations is the in-memory copy of warden_session_revocations, guarded
// by Service.mu.
type revocations struct {
	// tokens maps a revoked token ID to its user and when its row expires.
	tokens map[string]tokenRevocation
	// perUser counts the entries of tokens by user ID.
	perUser map[string]int
	// users maps a user ID to its latest revocation of all tokens.
	users map[string]userRevocation
	// pruned is when expired rows were last deleted, in Unix seconds.
	pruned int64
}

// tokenRevocation is the revocation of one token.
type tokenRevocation struct {
	userID    string
	expiresAt int64
}

// userRevocation revokes every token of a user issued at or before
// revokedAt.
type userRevocation struct {
	revokedAt, expiresAt int64
}

// revocationTTL returns, in seconds, how long a revocation must be kept:
// every token it covers was issued before it and so expires within the
// longer of the two lifetimes.
func (s *Service) revocationTTL() int64 {
	return int64(max(s.cfg.SessionExpiry, s.cfg.RefreshExpiry).Seconds())
}

// loadRevocations deletes expired revocations and adds the others to the
// in-memory set. It adds rather than replaces, since a revocation is never
// undone: a notification applied while it reads is kept.
func (s *Service) loadRevocations(ctx context.Context) error {
	if _, err := s.cfg.DB.Writer().ExecContext(ctx, "DELETE FROM warden_session_revocations WHERE expires_at <= $1", s.now().Unix()); err != nil {
		return fmt.Errorf("prune revocations: %w", err)
	}
	return s.readRevocations(ctx)
}

// readRevocations adds the stored revocations to the in-memory set and
// forgets the expired ones there, deleting none from the table: the poll
// of a cluster node, which leaves the deleting to logouts (see revoke).
func (s *Service) readRevocations(ctx context.Context) error {
	now := s.now().Unix()
	rows, err := s.cfg.DB.Reader().QueryContext(ctx, "SELECT user_id, token_id, revoked_at, expires_at FROM warden_session_revocations")
	if err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	defer rows.Close()
	var loaded []revocationRow
	for rows.Next() {
		var r revocationRow
		if err := rows.Scan(&r.userID, &r.tokenID, &r.revokedAt, &r.expiresAt); err != nil {
			return fmt.Errorf("load revocations: %w", err)
		}
		loaded = append(loaded, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	s.mu.Lock()
	for _, r := range loaded {
		s.revoked.add(r.userID, r.tokenID, r.userRevocation)
	}
	s.revoked.prune(now)
	s.revoked.pruned = now
	tokens, users := len(s.revoked.tokens), len(s.revoked.users)
	s.mu.Unlock()
	s.log.Debug().Int("tokens", tokens).Int("users", users).Msg("revocations loaded")
	return nil
}

// revocationRow is a row of warden_session_revocations.
type revocationRow struct {
	userID, tokenID string
	userRevocation
}

// add records one revocation. A revocation of all of a user's tokens
// forgets the user's single ones it covers: those revoked no later than
// itself, whose tokens were issued before it. Every revocation is kept for
// the same time, so those are the ones that expire no later. (A cluster
// node may hear of a later single one first.)
func (r *revocations) add(userID, tokenID string, u userRevocation) {
	if tokenID != allTokens {
		if old, ok := r.tokens[tokenID]; ok {
			r.perUser[old.userID]--
		}
		r.tokens[tokenID] = tokenRevocation{userID: userID, expiresAt: u.expiresAt}
		r.perUser[userID]++
		return
	}
	if old, ok := r.users[userID]; !ok || u.revokedAt >= old.revokedAt {
		r.users[userID] = u
	}
	if r.perUser[userID] > 0 {
		for id, t := range r.tokens {
			if t.userID == userID && t.expiresAt <= u.expiresAt {
				r.forget(id)
			}
		}
	}
}

// forget forgets the revocation of tokenID.
func (r *revocations) forget(tokenID string) {
	t := r.tokens[tokenID]
	delete(r.tokens, tokenID)
	if r.perUser[t.userID]--; r.perUser[t.userID] <= 0 {
		delete(r.perUser, t.userID)
	}
}

// revoke stores revocations of tokenIDs (allTokens for every token) of
// userID, then applies them in memory, pruning expired ones at most once a
// minute.
func (s *Service) revoke(ctx context.Context, userID string, tokenIDs []string) error {
	now := s.now().Unix()
	u := userRevocation{revokedAt: now}
	s.mu.RLock()
	if s.revoked.perUser[userID]+len(tokenIDs) > maxRevokedTokensPerUser {
		tokenIDs = []string{allTokens} // replaces the user's single ones
	}
	s.mu.RUnlock()
	if slices.Contains(tokenIDs, allTokens) {
		// Tokens issued by issueTime may be ahead of the clock.
		s.mu.RLock()
		if old, ok := s.revoked.users[userID]; ok && old.revokedAt >= now {
			u.revokedAt = old.revokedAt + 1
		}
		s.mu.RUnlock()
	}
	u.expiresAt = u.revokedAt + s.revocationTTL()
	tx, err := s.cfg.DB.Writer().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	for _, id := range tokenIDs {
		_, err := tx.ExecContext(ctx, `INSERT INTO warden_session_revocations (user_id, token_id, revoked_at, expires_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id, token_id) DO UPDATE SET revoked_at = excluded.revoked_at, expires_at = excluded.expires_at`,
			userID, id, u.revokedAt, u.expiresAt)
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		if s.cfg.Feed != nil {
			if err := s.cfg.Feed.Notify(ctx, tx, revocationChannel, userID+payloadSep+id); err != nil {
				return fmt.Errorf("revoke: %w", err)
			}
		}
	}
	if slices.Contains(tokenIDs, allTokens) {
		// The user's single revocations are covered now: every token they
		// name was issued before this one.
		if _, err := tx.ExecContext(ctx, "DELETE FROM warden_session_revocations WHERE user_id = $1 AND token_id <> $2 AND expires_at <= $3",
			userID, allTokens, u.expiresAt); err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
	}
	prune := false
	s.mu.Lock()
	if now-s.revoked.pruned >= pruneEvery {
		s.revoked.pruned, prune = now, true
	}
	s.mu.Unlock()
	if prune {
		if _, err := tx.ExecContext(ctx, "DELETE FROM warden_session_revocations WHERE expires_at <= $1", now); err != nil {
			return fmt.Errorf("prune revocations: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	s.mu.Lock()
	for _, id := range tokenIDs {
		s.revoked.add(userID, id, u)
	}
	if prune {
		s.revoked.prune(now)
	}
	s.mu.Unlock()
	zerolog.Ctx(ctx).Info().Str("user_id", userID).Strs("token_ids", tokenIDs).Msg("sessions revoked")
	return nil
}

// prune forgets the revocations that expired by now.
func (r *revocations) prune(now int64) {
	for id, t := range r.tokens {
		if t.expiresAt <= now {
			r.forget(id)
		}
	}
	for id, u := range r.users {
		if u.expiresAt <= now {
			delete(r.users, id)
		}
	}
}

// checkRevoked returns an error wrapping ErrRevoked when a logout revoked
// the token whose verified claims are c: its token ID, or all the user's
// tokens issued at or before the logout's second. Refreshed tokens keep the
// first issue time, so a revocation of all tokens also covers their
// refreshes.
func (s *Service) checkRevoked(c session.Claims) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.revoked.tokens[c.TokenID]; ok && c.TokenID != allTokens {
		return fmt.Errorf("%w: token %s", ErrRevoked, c.TokenID)
	}
	if u, ok := s.revoked.users[strings.ToLower(c.UserID)]; ok && c.IssuedAt <= u.revokedAt {
		return fmt.Errorf("%w: all tokens of user %s issued by %d", ErrRevoked, c.UserID, u.revokedAt)
	}
	return nil
}

// issueTime returns the issue time of a new session of userID: now, or just
// after the user's latest revocation of all tokens when that happened in
// this very second, so that logging in again right after such a logout
// works.
func (s *Service) issueTime(userID string) int64 {
	now := s.now().Unix()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if u, ok := s.revoked.users[userID]; ok && u.revokedAt >= now {
		return u.revokedAt + 1
	}
	return now
}
