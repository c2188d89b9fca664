package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/warden-rpc/warden/session"
	"github.com/warden-rpc/warden/storage"
)

// sessionMigrations create the table of issued sessions, which the
// console lists. The SQL is portable to PostgreSQL: TEXT and BIGINT, $n
// parameters, ON CONFLICT ... DO UPDATE with excluded, no SQLite-only
// function. Times are Unix seconds.
//
// A row is a session: the token ID that a session token and its refresh
// token share, from its first issue (issued_at) to the expiry of its
// latest tokens; client_addr is the address that authenticated, or
// refreshed last. Rows go once their refresh token has expired.
var sessionMigrations = []storage.Migration{
	{Version: 150, Name: "sessions", SQL: `
CREATE TABLE IF NOT EXISTS warden_user_sessions (
	token_id           TEXT   NOT NULL PRIMARY KEY,
	user_id            TEXT   NOT NULL,
	issued_at          BIGINT NOT NULL,
	expires_at         BIGINT NOT NULL,
	refresh_expires_at BIGINT NOT NULL,
	refreshed_at       BIGINT NOT NULL,
	client_addr        TEXT   NOT NULL
);
CREATE INDEX IF NOT EXISTS warden_user_sessions_user_id ON warden_user_sessions(user_id);
CREATE INDEX IF NOT EXISTS warden_user_sessions_refresh_expires_at ON warden_user_sessions(refresh_expires_at);
`},
}

// SessionRecord is one session issued to a user, as the console lists it.
type SessionRecord struct {
	TokenID          string    `json:"token_id"`
	UserID           string    `json:"user_id"`
	IssuedAt         time.Time `json:"issued_at"`
	ExpiresAt        time.Time `json:"expires_at"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at"`
	RefreshedAt      time.Time `json:"refreshed_at"`
	ClientAddr       string    `json:"client_addr"`
	// Revoked reports that a logout or the console revoked the session.
	Revoked bool `json:"revoked"`
}

// clientAddrKey is the context key of the client's address.
type clientAddrKey struct{}

// WithClientAddr returns ctx carrying the client's address, which the
// sessions that Authenticate and Refresh issue record.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// Bounds of the session log.
const (
	// maxPendingSessions bounds the session records waiting to be written;
	// beyond it a record is dropped, and logged.
	maxPendingSessions = 10000
	// sessionWriteTimeout bounds one batch of writes.
	sessionWriteTimeout = 30 * time.Second
	// maxSessionRowsPerUser bounds the records kept of one user's
	// sessions: the newest are kept. A record is for the console, and
	// dropping it revokes nothing; without the bound, a client with an
	// account could add a row a login, each kept for the refresh tokens'
	// lifetime.
	maxSessionRowsPerUser = 100
)

// sessionLog queues session records for a goroutine that writes them in
// batches, so that a login never waits for the writer (a login to an
// existing account only reads). The goroutine runs while records wait.
type sessionLog struct {
	mu      sync.Mutex
	pending []sessionRow
	running bool
	pruned  int64
}

// sessionRow is one row of warden_user_sessions.
type sessionRow struct {
	tokenID, userID, addr                string
	issued, expires, refreshExp, updated int64
}

// recordSession queues the record of the session of c, issued now, unless
// err says it was not issued. The record is for the operator: it is
// written shortly after, off the request, and a failure to write it is
// logged and does not fail the authentication (revocation works from the
// token ID, with or without it).
func (s *Service) recordSession(ctx context.Context, c session.Claims, err error) {
	if err != nil {
		return
	}
	now := s.now()
	addr, _ := ctx.Value(clientAddrKey{}).(string)
	row := sessionRow{tokenID: c.TokenID, userID: strings.ToLower(c.UserID), addr: addr, issued: c.IssuedAt,
		expires: now.Add(s.cfg.SessionExpiry).Unix(), refreshExp: now.Add(s.cfg.RefreshExpiry).Unix(), updated: now.Unix()}
	l := &s.sessions
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) >= maxPendingSessions {
		s.log.Warn().Str("user_id", row.userID).Msg("session record dropped: too many waiting to be written")
		return
	}
	l.pending = append(l.pending, row)
	if !l.running {
		l.running = true
		go s.writeSessions()
	}
}

// writeSessions writes the queued session records until none waits.
func (s *Service) writeSessions() {
	l := &s.sessions
	for {
		l.mu.Lock()
		batch := l.pending
		l.pending = nil
		if len(batch) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		prune := batch[0].updated-l.pruned >= pruneEvery
		if prune {
			l.pruned = batch[0].updated
		}
		l.mu.Unlock()
		// A closed database means the server is stopping: nothing to log
		// (and, in tests, the test that owned the logger may be over).
		if err := s.writeSessionBatch(batch, prune); err != nil && !strings.Contains(err.Error(), "database is closed") {
			s.log.Error().Err(err).Int("sessions", len(batch)).Msg("record sessions")
		}
	}
}

// writeSessionBatch upserts rows in one transaction, keeps the newest
// maxSessionRowsPerUser of each of their users, and deletes the expired
// ones when prune is set.
func (s *Service) writeSessionBatch(rows []sessionRow, prune bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), sessionWriteTimeout)
	defer cancel()
	tx, err := s.cfg.DB.Writer().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	for _, r := range rows {
		_, err := tx.ExecContext(ctx, `INSERT INTO warden_user_sessions
(token_id, user_id, issued_at, expires_at, refresh_expires_at, refreshed_at, client_addr)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (token_id) DO UPDATE SET expires_at = excluded.expires_at,
refresh_expires_at = excluded.refresh_expires_at, refreshed_at = excluded.refreshed_at,
client_addr = excluded.client_addr`, r.tokenID, r.userID, r.issued, r.expires, r.refreshExp, r.updated, r.addr)
		if err != nil {
			return err
		}
	}
	trimmed := map[string]bool{}
	for _, r := range rows {
		if trimmed[r.userID] {
			continue
		}
		trimmed[r.userID] = true
		_, err := tx.ExecContext(ctx, `DELETE FROM warden_user_sessions WHERE user_id = $1 AND token_id NOT IN
(SELECT token_id FROM warden_user_sessions WHERE user_id = $1 ORDER BY issued_at DESC, token_id LIMIT $2)`, r.userID, maxSessionRowsPerUser)
		if err != nil {
			return err
		}
	}
	if prune {
		if _, err := tx.ExecContext(ctx, "DELETE FROM warden_user_sessions WHERE refresh_expires_at <= $1", rows[0].updated); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// FindAccount returns the account whose user ID, or else username, is q,
// and nil when there is none.
//
// # Errors
//
// An error when the database fails.
func (s *Service) FindAccount(ctx context.Context, q string) (*Account, error) {
	q = strings.TrimSpace(q)
	id := strings.ToLower(q)
	if !session.IsUUID(id) {
		err := s.cfg.DB.Reader().QueryRowContext(ctx, "SELECT id FROM warden_users WHERE username = $1", q).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("find account: %w", err)
		}
	}
	a, err := s.Account(ctx, id)
	if e := (*Error)(nil); errors.As(err, &e) && e.Err == nil && e.Msg == msgAccountNotFound {
		return nil, nil
	}
	return a, err
}

// Sessions returns userID's sessions whose refresh token has not expired,
// newest first, each marked when revoked.
//
// # Errors
//
// An error when the database fails.
func (s *Service) Sessions(ctx context.Context, userID string) ([]SessionRecord, error) {
	userID = strings.ToLower(userID)
	rows, err := s.cfg.DB.Reader().QueryContext(ctx, `SELECT token_id, issued_at, expires_at, refresh_expires_at, refreshed_at, client_addr
FROM warden_user_sessions WHERE user_id = $1 AND refresh_expires_at > $2 ORDER BY issued_at DESC, token_id`, userID, s.now().Unix())
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	defer rows.Close()
	out := []SessionRecord{}
	for rows.Next() {
		r := SessionRecord{UserID: userID}
		var issued, exp, rexp, refreshed int64
		if err := rows.Scan(&r.TokenID, &issued, &exp, &rexp, &refreshed, &r.ClientAddr); err != nil {
			return nil, fmt.Errorf("sessions: %w", err)
		}
		r.IssuedAt, r.ExpiresAt = time.Unix(issued, 0).UTC(), time.Unix(exp, 0).UTC()
		r.RefreshExpiresAt, r.RefreshedAt = time.Unix(rexp, 0).UTC(), time.Unix(refreshed, 0).UTC()
		r.Revoked = s.checkRevoked(session.Claims{TokenID: r.TokenID, UserID: userID, IssuedAt: issued}) != nil
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	return out, nil
}

// RevokeSession revokes userID's session tokenID, or every session of
// userID issued so far when tokenID is empty, as a logout does: stored,
// and refused from the next request on.
//
// # Errors
//
// An error when the revocation cannot be stored.
func (s *Service) RevokeSession(ctx context.Context, userID, tokenID string) error {
	return s.revoke(ctx, strings.ToLower(userID), []string{tokenID})
}
