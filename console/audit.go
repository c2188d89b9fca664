package console

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/warden-rpc/warden/storage"
)

// AuditEntry is one line of the audit log: who did what, when, from where,
// and how it ended.
type AuditEntry struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	ClientAddr string    `json:"client_addr"`
	Action     string    `json:"action"`
	Target     string    `json:"target"`
	Detail     string    `json:"detail"`
	// Outcome is "started" until the action ends, then "ok", or why it was
	// refused or failed.
	Outcome string `json:"outcome"`
}

// AuditLog stores the audit log. *SQLAudit implements it.
type AuditLog interface {
	// Record stores a finished entry.
	Record(ctx context.Context, e AuditEntry) error
	// Begin stores an entry whose outcome is "started" and returns its ID.
	Begin(ctx context.Context, e AuditEntry) (string, error)
	// Finish sets the outcome of the entry id.
	Finish(ctx context.Context, id, outcome string) error
	// Recent returns the latest n entries, newest first.
	Recent(ctx context.Context, n int) ([]AuditEntry, error)
}

// AuditDB is the database the audit table lives in; *storage.DB is one.
type AuditDB interface {
	Migrate(ctx context.Context, migrations []storage.Migration) error
	Writer() *sql.DB
	Reader() *sql.DB
}

// auditMigrations create the audit table. Versions 300 to 399 belong to
// this package. The SQL is portable: TEXT and BIGINT, $n parameters, no
// SQLite-only function; times are Unix milliseconds, and IDs sort by time
// (newAuditID).
var auditMigrations = []storage.Migration{
	{Version: 300, Name: "console_audit", SQL: `
CREATE TABLE IF NOT EXISTS warden_console_audit (
	id          TEXT   NOT NULL PRIMARY KEY,
	at          BIGINT NOT NULL,
	actor       TEXT   NOT NULL,
	client_addr TEXT   NOT NULL,
	action      TEXT   NOT NULL,
	target      TEXT   NOT NULL,
	detail      TEXT   NOT NULL,
	outcome     TEXT   NOT NULL,
	finished_at BIGINT
);
CREATE INDEX IF NOT EXISTS warden_console_audit_at ON warden_console_audit(at);
`},
}

// SQLAudit is the audit log in a table of Warden's own database.
type SQLAudit struct {
	db  AuditDB
	now func() time.Time
}

// NewSQLAudit creates or upgrades the audit table in db.
//
// # Errors
//
// An error when the migration fails.
func NewSQLAudit(ctx context.Context, db AuditDB) (*SQLAudit, error) {
	if err := db.Migrate(ctx, auditMigrations); err != nil {
		return nil, fmt.Errorf("console audit: %w", err)
	}
	return &SQLAudit{db: db, now: time.Now}, nil
}

var _ AuditLog = (*SQLAudit)(nil)

const insertAudit = `INSERT INTO warden_console_audit
(id, at, actor, client_addr, action, target, detail, outcome, finished_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// Record stores a finished entry.
func (a *SQLAudit) Record(ctx context.Context, e AuditEntry) error {
	t := a.now()
	now := t.UnixMilli()
	_, err := a.db.Writer().ExecContext(ctx, insertAudit, newAuditID(t), now,
		e.Actor, e.ClientAddr, e.Action, e.Target, e.Detail, e.Outcome, now)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// Begin stores an entry whose outcome is "started".
func (a *SQLAudit) Begin(ctx context.Context, e AuditEntry) (string, error) {
	t := a.now()
	id := newAuditID(t)
	_, err := a.db.Writer().ExecContext(ctx, insertAudit, id, t.UnixMilli(),
		e.Actor, e.ClientAddr, e.Action, e.Target, e.Detail, "started", nil)
	if err != nil {
		return "", fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return id, nil
}

// Finish sets an entry's outcome.
func (a *SQLAudit) Finish(ctx context.Context, id, outcome string) error {
	_, err := a.db.Writer().ExecContext(ctx,
		"UPDATE warden_console_audit SET outcome = $1, finished_at = $2 WHERE id = $3",
		outcome, a.now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("audit finish %s: %w", id, err)
	}
	return nil
}

// Recent returns the latest n entries, newest first.
func (a *SQLAudit) Recent(ctx context.Context, n int) ([]AuditEntry, error) {
	rows, err := a.db.Reader().QueryContext(ctx, `SELECT id, at, actor, client_addr, action, target, detail, outcome
FROM warden_console_audit ORDER BY id DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("audit list: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ClientAddr, &e.Action, &e.Target, &e.Detail, &e.Outcome); err != nil {
			return nil, fmt.Errorf("audit list: %w", err)
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit list: %w", err)
	}
	return out, nil
}

// lastAuditNano is the time part of the latest ID newAuditID made.
var lastAuditNano atomic.Int64

// newAuditID returns an ID that sorts by time: the Unix time in
// nanoseconds, made strictly increasing in this process, as 16 hex
// digits, then 8 random bytes in hex (so that nodes never collide).
func newAuditID(now time.Time) string {
	n := now.UnixNano()
	for {
		last := lastAuditNano.Load()
		n = max(n, last+1)
		if lastAuditNano.CompareAndSwap(last, n) {
			break
		}
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return fmt.Sprintf("%016x%s", n, hex.EncodeToString(b))
}

// audited runs a change: it stores the entry as started first, so that no
// change runs unrecorded (if the audit log cannot be written, the change
// is refused with 500), runs fn, and stores fn's outcome, or its error.
func (c *Console) audited(r *http.Request, s *login, action, target, detail string, fn func() (string, error)) error {
	e := AuditEntry{Actor: s.user, ClientAddr: clientAddr(r).String(), Action: action, Target: target, Detail: detail}
	id, err := c.cfg.Audit.Begin(r.Context(), e)
	if err != nil {
		return apiErr(http.StatusInternalServerError, "audit log unavailable; nothing was changed", err)
	}
	outcome, ferr := fn()
	if outcome == "" {
		outcome = "ok"
		if ferr != nil {
			outcome = "failed: " + ferr.Error()
		}
	}
	// The change happened: record its outcome even when the client left.
	if err := c.cfg.Audit.Finish(context.WithoutCancel(r.Context()), id, outcome); err != nil {
		c.log.Error().Err(err).Str("action", action).Str("audit_id", id).Msg("audit log write failed")
	}
	return ferr
}

// auditList answers the latest audit entries.
func (c *Console) auditList(w http.ResponseWriter, r *http.Request, _ *login) error {
	es, err := c.cfg.Audit.Recent(r.Context(), 50)
	if err != nil {
		return apiErr(http.StatusInternalServerError, "audit log unavailable", err)
	}
	return writeJSON(w, http.StatusOK, es)
}
