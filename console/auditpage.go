package console

// The audit log's pages: the views by kind, cursors, filters and the
// HTTP API that reads them (audit.go keeps the entries themselves).

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// auditViews are the audit page's views (the API's kind parameter) and
// the kinds each shows. The default leaves out failed sign-ins, which
// anyone can make, and counts them instead.
var auditViews = map[string][]string{
	"default":         {AuditChange, AuditSignIn},
	"changes":         {AuditChange},
	"sign-ins":        {AuditSignIn, AuditFailedSignIn},
	"failed-sign-ins": {AuditFailedSignIn},
	"all":             {AuditChange, AuditSignIn, AuditFailedSignIn},
}

// auditViewNames lists auditViews' names in the page's order, for errors.
const auditViewNames = "default, changes, sign-ins, failed-sign-ins, all"

// Audit page sizes.
const (
	// DefaultAuditPage is the entries a page shows when the request does
	// not say.
	DefaultAuditPage = 50
	// MaxAuditPage bounds the entries of one page.
	MaxAuditPage = 200
	// maxHiddenCount bounds the count of entries a view leaves out: the
	// page says "10000+" rather than count without end.
	maxHiddenCount = 10000
	// maxAuditFilterBytes bounds an actor or target filter: longer ones
	// name no entry (user names are cut to maxAuditActorBytes, plugin
	// names to 63 bytes).
	maxAuditFilterBytes = 256
)

// AuditQuery asks for a page of the audit log.
type AuditQuery struct {
	// Kinds are the kinds of entries shown; every kind when empty.
	Kinds []string
	// Before, when set, asks for the newest entries older than the entry
	// with this ID; After, when set, for the oldest entries newer than it.
	// At most one is set; neither asks for the newest entries.
	Before, After string
	// Actor or Target, when set, keeps the entries with exactly this actor
	// or target; at most one is set, so that each kind's entries are one
	// range of an index.
	Actor, Target string
	// Limit is the page's size, 1 to MaxAuditPage.
	Limit int
}

// AuditPage is a page of the audit log, newest first.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	// Older is the cursor (Before) of the next older page and Newer the
	// cursor (After) of the next newer page; empty when there is none.
	Older string `json:"older"`
	Newer string `json:"newer"`
	// FailedSignInsHidden counts, when the query leaves them out, the
	// failed sign-ins in the page's span: going older, from its oldest
	// entry (or the start of the log) to the cursor it was asked from (or
	// now); going newer, from the cursor to its newest entry (or now). The
	// counts of a walk's pages add up. At most maxHiddenCount, and then
	// FailedSignInsCapped is set.
	FailedSignInsHidden int  `json:"failed_sign_ins_hidden"`
	FailedSignInsCapped bool `json:"failed_sign_ins_capped"`
}

// Page returns a page of entries, newest first. Each kind is read from
// its own range of the index on (kind, id), at most q.Limit+1 rows, and
// the ranges are merged here, so that a page costs the same however many
// entries of other kinds there are.
func (a *SQLAudit) Page(ctx context.Context, q AuditQuery) (AuditPage, error) {
	kinds := q.Kinds
	if len(kinds) == 0 {
		kinds = auditViews["all"]
	}
	if q.Limit < 1 || q.Limit > MaxAuditPage {
		q.Limit = DefaultAuditPage
	}
	asc := q.After != ""
	es := []AuditEntry{}
	for _, k := range kinds {
		got, err := a.scan(ctx, q, k, q.After, q.Before, asc, q.Limit+1)
		if err != nil {
			return AuditPage{}, err
		}
		es = append(es, got...)
	}
	slices.SortFunc(es, func(x, y AuditEntry) int { return strings.Compare(y.ID, x.ID) })
	more := len(es) > q.Limit
	if asc { // the oldest q.Limit+1 newer than After, at the end
		es = es[max(0, len(es)-q.Limit):]
	} else {
		es = es[:min(len(es), q.Limit)]
	}
	p := AuditPage{Entries: es}
	if len(es) > 0 {
		newest, oldest := es[0].ID, es[len(es)-1].ID
		var err error
		if asc {
			if more {
				p.Newer = newest
			}
			p.Older, err = a.beyond(ctx, q, kinds, oldest, false)
		} else {
			if more {
				p.Older = oldest
			}
			if q.Before != "" {
				p.Newer, err = a.beyond(ctx, q, kinds, newest, true)
			}
		}
		if err != nil {
			return AuditPage{}, err
		}
	}
	if !slices.Contains(kinds, AuditFailedSignIn) {
		// The page's span reaches to the next page's: from its oldest
		// entry (or the start) to the cursor it was asked from, going
		// older; from the cursor to its newest entry (or now), going
		// newer. So each failed sign-in counts on one page of a walk.
		lo, hi := p.Older, q.Before
		if asc {
			lo, hi = q.After, p.Newer
		}
		n, err := a.count(ctx, q, AuditFailedSignIn, lo, hi, maxHiddenCount+1)
		if err != nil {
			return AuditPage{}, err
		}
		p.FailedSignInsHidden, p.FailedSignInsCapped = min(n, maxHiddenCount), n > maxHiddenCount
	}
	return p, nil
}

// beyond returns id when an entry of kinds, within q's actor or target,
// is newer (or older) than it, else "".
func (a *SQLAudit) beyond(ctx context.Context, q AuditQuery, kinds []string, id string, newer bool) (string, error) {
	for _, k := range kinds {
		after, before := "", id
		if newer {
			after, before = id, ""
		}
		got, err := a.scan(ctx, q, k, after, before, newer, 1)
		if err != nil {
			return "", err
		}
		if len(got) > 0 {
			return id, nil
		}
	}
	return "", nil
}

// auditWhere returns the condition on kind, on q's actor or target when
// set, and on id (> after, < before, when set), with its arguments.
func auditWhere(q AuditQuery, kind, after, before string) (string, []any) {
	where, args := "kind = $1", []any{kind}
	if q.Actor != "" {
		args = append(args, q.Actor)
		where += " AND actor = $" + strconv.Itoa(len(args))
	}
	if q.Target != "" {
		args = append(args, q.Target)
		where += " AND target = $" + strconv.Itoa(len(args))
	}
	if after != "" {
		args = append(args, after)
		where += " AND id > $" + strconv.Itoa(len(args))
	}
	if before != "" {
		args = append(args, before)
		where += " AND id < $" + strconv.Itoa(len(args))
	}
	return where, args
}

// scan returns at most limit entries of kind, within q's actor or target,
// with IDs between after and before (either empty: no bound), newest
// first, or oldest first if asc.
func (a *SQLAudit) scan(ctx context.Context, q AuditQuery, kind, after, before string, asc bool, limit int) ([]AuditEntry, error) {
	where, args := auditWhere(q, kind, after, before)
	order := "DESC"
	if asc {
		order = "ASC"
	}
	args = append(args, limit)
	rows, err := a.db.Reader().QueryContext(ctx, `SELECT id, at, actor, client_addr, action, target, detail, outcome, kind
FROM warden_console_audit WHERE `+where+` ORDER BY id `+order+` LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("audit list: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ClientAddr, &e.Action, &e.Target, &e.Detail, &e.Outcome, &e.Kind); err != nil {
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

// count counts the entries of kind, within q's actor or target, between
// after and before, up to limit.
func (a *SQLAudit) count(ctx context.Context, q AuditQuery, kind, after, before string, limit int) (int, error) {
	where, args := auditWhere(q, kind, after, before)
	args = append(args, limit)
	var n int
	err := a.db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT id FROM warden_console_audit WHERE `+
		where+` LIMIT $`+strconv.Itoa(len(args))+`) AS hidden`, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("audit count: %w", err)
	}
	return n, nil
}

// auditList answers a page of the audit log: GET api/audit?kind=&before=&after=&actor=&target=&limit=
// (parseAuditQuery).
func (c *Console) auditList(w http.ResponseWriter, r *http.Request, _ *login) error {
	q, err := parseAuditQuery(r.URL.Query())
	if err != nil {
		return err
	}
	p, err := c.cfg.Audit.Page(r.Context(), q)
	if err != nil {
		return apiErr(http.StatusInternalServerError, "audit log unavailable", err)
	}
	return writeJSON(w, http.StatusOK, p)
}

// parseAuditQuery reads an audit page's query: kind (a view of
// auditViews; "default" when empty), before or after (an entry's ID: 32
// hex digits), actor or target (exact, at most maxAuditFilterBytes) and
// limit (1 to MaxAuditPage; DefaultAuditPage when empty). Anything else is a 400 that says what is wrong.
func parseAuditQuery(v url.Values) (AuditQuery, error) {
	get := v.Get
	q := AuditQuery{Before: get("before"), After: get("after"), Limit: DefaultAuditPage}
	view := get("kind")
	if view == "" {
		view = "default"
	}
	kinds, ok := auditViews[view]
	if !ok {
		return q, apiErr(http.StatusBadRequest, "unknown kind: want one of "+auditViewNames, nil)
	}
	q.Kinds = kinds
	if q.Before != "" && q.After != "" {
		return q, apiErr(http.StatusBadRequest, "give before or after, not both", nil)
	}
	for _, c := range []string{q.Before, q.After} {
		if c != "" && !validAuditID(c) {
			return q, apiErr(http.StatusBadRequest, "bad cursor: want an audit entry's id (32 hex digits)", nil)
		}
	}
	q.Actor, q.Target = get("actor"), get("target")
	switch {
	case q.Actor != "" && q.Target != "":
		return q, apiErr(http.StatusBadRequest, "filter by actor or by target, not both", nil)
	case len(q.Actor) > maxAuditFilterBytes || len(q.Target) > maxAuditFilterBytes:
		return q, apiErr(http.StatusBadRequest, fmt.Sprintf("actor or target over %d bytes", maxAuditFilterBytes), nil)
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxAuditPage {
			return q, apiErr(http.StatusBadRequest, fmt.Sprintf("limit must be a number from 1 to %d", MaxAuditPage), nil)
		}
		q.Limit = n
	}
	return q, nil
}

// validAuditID reports whether id has the form newAuditID makes: 32
// lowercase hex digits.
func validAuditID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := range len(id) {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
