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
	// Kind sorts the entry for the audit page's views: AuditChange,
	// AuditSignIn or AuditFailedSignIn. Record and Begin set it from
	// Action and Outcome.
	Kind string `json:"kind"`
}

// The kinds of audit entries, kept in the table's kind column, so that a
// view of some kinds reads an index range of each (bounded), whatever the
// number of entries of the others.
const (
	// AuditChange is what an operator did in a session: uploads, reloads,
	// removals, explorer calls, revocations.
	AuditChange = "change"
	// AuditSignIn is a successful sign-in or a sign-out.
	AuditSignIn = "sign-in"
	// AuditFailedSignIn is a refused sign-in: anyone can make one, with a
	// user name of their choice, as many as they have client addresses.
	AuditFailedSignIn = "failed-sign-in"
)

// auditKind returns the kind of an entry with action and outcome.
func auditKind(action, outcome string) string {
	switch {
	case action == "sign-in" && outcome != "ok":
		return AuditFailedSignIn
	case action == "sign-in" || action == "sign-out":
		return AuditSignIn
	}
	return AuditChange
}

// AuditLog stores the audit log. *SQLAudit implements it.
type AuditLog interface {
	// Record stores a finished entry.
	Record(ctx context.Context, e AuditEntry) error
	// Begin stores an entry whose outcome is "started" and returns its ID.
	Begin(ctx context.Context, e AuditEntry) (string, error)
	// Finish sets the outcome of the entry id.
	Finish(ctx context.Context, id, outcome string) error
	// Page returns a page of entries, newest first.
	Page(ctx context.Context, q AuditQuery) (AuditPage, error)
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
	// The kind of each entry, for the audit page's views, and an index
	// that reads the entries of one kind by ID. Rows written before (or by
	// a node of an older version, during a rolling upgrade) are sorted by
	// their action and outcome here, or default to a change.
	{Version: 301, Name: "console_audit_kind", SQL: `
ALTER TABLE warden_console_audit ADD COLUMN kind TEXT NOT NULL DEFAULT 'change';
UPDATE warden_console_audit SET kind = 'sign-in' WHERE action IN ('sign-in', 'sign-out');
UPDATE warden_console_audit SET kind = 'failed-sign-in' WHERE action = 'sign-in' AND outcome <> 'ok';
CREATE INDEX IF NOT EXISTS warden_console_audit_kind_id ON warden_console_audit(kind, id);
`},
	// The audit page's filters by actor or by target read these.
	{Version: 302, Name: "console_audit_actor_target", SQL: `
CREATE INDEX IF NOT EXISTS warden_console_audit_kind_actor ON warden_console_audit(kind, actor, id);
CREATE INDEX IF NOT EXISTS warden_console_audit_kind_target ON warden_console_audit(kind, target, id);
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
(id, at, actor, client_addr, action, target, detail, outcome, finished_at, kind)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

// Record stores a finished entry.
func (a *SQLAudit) Record(ctx context.Context, e AuditEntry) error {
	t := a.now()
	now := t.UnixMilli()
	_, err := a.db.Writer().ExecContext(ctx, insertAudit, newAuditID(t), now,
		e.Actor, e.ClientAddr, e.Action, e.Target, e.Detail, e.Outcome, now, auditKind(e.Action, e.Outcome))
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
		e.Actor, e.ClientAddr, e.Action, e.Target, e.Detail, "started", nil, auditKind(e.Action, "started"))
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
