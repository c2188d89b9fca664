package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/warden-rpc/warden/session"
)

// DefaultPollInterval is the default Config.PollInterval.
const DefaultPollInterval = 10 * time.Second

// revocationChannel is the Feed channel of revocations; payloadSep
// separates the user ID from the token ID in its payloads.
const (
	revocationChannel = "warden_revocations"
	payloadSep        = "\t"
)

// Listen keeps the in-memory revocations current with those the other
// nodes make, until ctx is done: it listens on the Feed, reloads them all
// each time it starts hearing (again), adds each revocation announced, and
// reloads them every PollInterval as well. While the Feed is not heard
// (not yet, or the connection was lost), SessionValid asks the database.
// Without a Feed it returns at once.
func (s *Service) Listen(ctx context.Context) {
	if s.cfg.Feed == nil {
		return
	}
	go s.poll(ctx)
	s.cfg.Feed.Listen(ctx, revocationChannel, &feedListener{s: s, ctx: ctx})
}

// poll reads the revocations every PollInterval while the Feed is heard,
// the fallback behind the notifications. It deletes nothing: N nodes
// polling would otherwise run N deletes per interval.
func (s *Service) poll(ctx context.Context) {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.hearing.Load() {
			continue
		}
		if err := s.readRevocations(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("poll revocations")
		}
	}
}

// feedListener is the Service as the Feed's storage.Listener.
type feedListener struct {
	s   *Service
	ctx context.Context
}

// Sync reloads every revocation, then trusts the in-memory set.
func (l *feedListener) Sync() error {
	if err := l.s.loadRevocations(l.ctx); err != nil {
		return err
	}
	l.s.hearing.Store(true)
	l.s.log.Info().Msg("hearing revocations from the other nodes")
	return nil
}

// Message adds the revocation a payload names, as the database has it: a
// payload only says where to look, so a forged one revokes nothing.
func (l *feedListener) Message(payload string) error {
	userID, tokenID, ok := strings.Cut(payload, payloadSep)
	if !ok {
		l.s.log.Warn().Str("payload", payload).Msg("malformed revocation notification")
		return nil
	}
	var u userRevocation
	err := l.s.cfg.DB.Reader().QueryRowContext(l.ctx, `SELECT revoked_at, expires_at FROM warden_session_revocations
WHERE user_id = $1 AND token_id = $2`, userID, tokenID).Scan(&u.revokedAt, &u.expiresAt)
	if err != nil {
		return fmt.Errorf("read revocation: %w", err) // a missing row too: reload them all
	}
	l.s.mu.Lock()
	l.s.revoked.add(userID, tokenID, u)
	l.s.mu.Unlock()
	return nil
}

// Lost stops trusting the in-memory set until the next Sync. It warns
// once per loss; the failed attempts to listen again, every few hundred
// milliseconds while the database is away, are logged at debug level.
func (l *feedListener) Lost(err error) {
	if l.s.hearing.Swap(false) {
		l.s.log.Warn().Err(err).Msg("not hearing revocations from the other nodes; checking each session in the database")
		return
	}
	l.s.log.Debug().Err(err).Msg("still not hearing revocations from the other nodes")
}

// sessionValid returns nil when no logout revoked the session c: from
// memory while it is current, else from the database.
func (s *Service) sessionValid(ctx context.Context, c session.Claims) error {
	if s.hearing.Load() {
		return s.checkRevoked(c)
	}
	var revoked bool
	err := s.cfg.DB.Reader().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM warden_session_revocations
WHERE user_id = $1 AND ((token_id = $2 AND token_id <> '') OR (token_id = '' AND revoked_at >= $3)))`,
		strings.ToLower(c.UserID), c.TokenID, c.IssuedAt).Scan(&revoked)
	switch {
	case err != nil:
		return fmt.Errorf("%w: check session %s: %w", ErrUnavailable, c.TokenID, err)
	case revoked:
		return fmt.Errorf("%w: token %s", ErrRevoked, c.TokenID)
	}
	return nil
}

// loadUserRevocation, on a cluster node, reads the user's latest logout of
// every session from the database into memory, so that a session issued
// right after a logout on another node, before this node heard of it,
// gets an issue time after it (see issueTime) rather than one the logout
// covers. On one node memory is the truth, and it does nothing.
func (s *Service) loadUserRevocation(ctx context.Context, userID string) error {
	if s.cfg.Feed == nil {
		return nil
	}
	var u userRevocation
	err := s.cfg.DB.Reader().QueryRowContext(ctx, `SELECT revoked_at, expires_at FROM warden_session_revocations
WHERE user_id = $1 AND token_id = $2`, userID, allTokens).Scan(&u.revokedAt, &u.expiresAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("read revocation: %w", err)
	}
	s.mu.Lock()
	s.revoked.add(userID, allTokens, u)
	s.mu.Unlock()
	return nil
}
