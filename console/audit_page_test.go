package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// clientFrom returns a client of f whose connections come from the
// loopback address ip (any of 127.0.0.0/8 on Linux), so that the console
// sees, and limits, another client address.
func (f *fixture) clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// floodFailedSignIns makes n failed sign-ins, each from its own loopback
// address (127.0.1.x), with the user name the attacker chooses, as a
// client with many addresses can: the per-address limiter lets each
// through.
func (f *fixture) floodFailedSignIns(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		cl := f.clientFrom(t, fmt.Sprintf("127.0.1.%d", i+1))
		body := fmt.Sprintf(`{"user":"ops-%d","password":"guess"}`, i)
		if s, b, _ := f.send(t, cl, "POST", "api/signin", body, f.srv.URL, ""); s != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d: %d %s, want 401", i, s, b)
		}
		cl.CloseIdleConnections()
	}
}

// TestConsole_auditFloodKeepsChanges: an operator's upload stays on the
// audit page's default view after 60+ failed sign-ins from many
// addresses, which used to push it off the latest 50 entries.
func TestConsole_auditFloodKeepsChanges(t *testing.T) {
	f := newFixture(t, false)
	cl := f.client(t)
	tok := f.signIn(t, cl)
	if s, b, _ := f.send(t, cl, "PUT", "api/plugins/mine", string(echoWasm(t)), f.srv.URL, tok); s != http.StatusOK {
		t.Fatalf("deploy: %d %s", s, b)
	}
	f.floodFailedSignIns(t, 65)
	s, body, _ := f.send(t, cl, "GET", "api/audit", "", "", "")
	if s != http.StatusOK || !strings.Contains(body, `"action":"plugins.deploy"`) {
		t.Fatalf("audit page, default view, after a flood of failed sign-ins: %d, the upload is missing:\n%.600s", s, body)
	}
	// The default view counts the failed sign-ins it leaves out, and the
	// failed-sign-ins view pages through them, older and older.
	var p AuditPage
	if err := json.Unmarshal([]byte(body), &p); err != nil || len(p.Entries) != 2 || p.FailedSignInsHidden != 65 || p.Older != "" {
		t.Fatalf("default view: %+v, %v; want the sign-in and the upload, 65 failed sign-ins hidden, no older page", p, err)
	}
	seen := map[string]bool{}
	for q := "kind=failed-sign-ins&limit=20"; ; {
		s, body, _ := f.send(t, cl, "GET", "api/audit?"+q, "", "", "")
		p = AuditPage{}
		if err := json.Unmarshal([]byte(body), &p); s != http.StatusOK || err != nil {
			t.Fatalf("%s: %d %s", q, s, body)
		}
		for _, e := range p.Entries {
			if e.Kind != AuditFailedSignIn || seen[e.ClientAddr] {
				t.Fatalf("%s: %+v is not a new failed sign-in", q, e)
			}
			seen[e.ClientAddr] = true
		}
		if p.Older == "" {
			break
		}
		q = "kind=failed-sign-ins&limit=20&before=" + p.Older
	}
	if len(seen) != 65 {
		t.Fatalf("%d failed sign-ins paged through, want 65", len(seen))
	}
}

// TestSQLAudit_pages pages through each view of the audit log, older then
// newer, on SQLite and on PostgreSQL, with failed sign-ins in between that
// the default view leaves out and counts.
func TestSQLAudit_pages(t *testing.T) {
	for name, open := range auditEngines {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := newTestAudit(t, open(t))
			rec := func(action, target, outcome string) {
				t.Helper()
				if err := a.Record(ctx, AuditEntry{Actor: "ops", ClientAddr: "10.0.0.1", Action: action, Target: target, Outcome: outcome}); err != nil {
					t.Fatal(err)
				}
			}
			rec("plugins.deploy", "first", "ok")
			for range 30 {
				rec("sign-in", "", "refused: wrong user name or password")
			}
			rec("sign-in", "", "ok")
			for i := range 5 {
				rec("rpc.call", fmt.Sprintf("call%d", i+1), "HTTP 200")
				if i == 2 { // between two pages of the default view
					for range 3 {
						rec("sign-in", "", "refused: wrong user name or password")
					}
				}
			}
			id, err := a.Begin(ctx, AuditEntry{Actor: "ops", ClientAddr: "10.0.0.1", Action: "sign-out"})
			if err != nil || a.Finish(ctx, id, "ok") != nil {
				t.Fatal(err)
			}
			show := func(p AuditPage) string {
				var out []string
				for _, e := range p.Entries {
					out = append(out, e.Kind+":"+strings.TrimSpace(e.Action+" "+e.Target))
				}
				return strings.Join(out, ", ")
			}
			page := func(q AuditQuery) AuditPage {
				t.Helper()
				p, err := a.Page(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			def := auditViews["default"]

			// Older, from the newest page to the oldest.
			var pages []string
			var hidden []int
			var last AuditPage
			for q := (AuditQuery{Kinds: def, Limit: 3}); ; {
				last = page(q)
				pages, hidden = append(pages, show(last)), append(hidden, last.FailedSignInsHidden)
				if (q.Before == "") != (last.Newer == "") {
					t.Fatalf("page %d: newer %q after before %q", len(pages), last.Newer, q.Before)
				}
				if last.Older == "" {
					break
				}
				q.Before = last.Older
			}
			want := []string{"sign-in:sign-out, change:rpc.call call5, change:rpc.call call4",
				"change:rpc.call call3, change:rpc.call call2, change:rpc.call call1",
				"sign-in:sign-in, change:plugins.deploy first"}
			if strings.Join(pages, "\n") != strings.Join(want, "\n") || fmt.Sprint(hidden) != "[0 3 30]" {
				t.Fatalf("default view, 3 a page:\n%s\nhidden %v; want:\n%s\nhidden [0 3 30]", strings.Join(pages, "\n"), hidden, strings.Join(want, "\n"))
			}
			// Newer, from the oldest page.
			p := page(AuditQuery{Kinds: def, Limit: 3, After: last.Newer})
			if show(p) != want[1] || p.Newer == "" || p.Older == "" {
				t.Fatalf("newer than %s: %s (older %q, newer %q); want %s and both cursors", last.Newer, show(p), p.Older, p.Newer, want[1])
			}
			if p := page(AuditQuery{Kinds: def, Limit: 3, After: p.Newer}); show(p) != want[0] || p.Newer != "" || p.Older == "" {
				t.Fatalf("the newest page, from older: %s (older %q, newer %q); want %s", show(p), p.Older, p.Newer, want[0])
			}

			for _, tt := range []struct {
				view          string
				actor, target string
				n             int
				hidden        int
			}{
				{"changes", "", "", 6, 33}, {"sign-ins", "", "", 35, 0}, {"failed-sign-ins", "", "", 33, 0}, {"all", "", "", 41, 0},
				{"default", "", "call3", 1, 0}, {"all", "ops", "", 41, 0}, {"default", "ops", "", 8, 33}, {"all", "nobody", "", 0, 0},
			} {
				p := page(AuditQuery{Kinds: auditViews[tt.view], Actor: tt.actor, Target: tt.target, Limit: MaxAuditPage})
				if len(p.Entries) != tt.n || p.FailedSignInsHidden != tt.hidden || p.Older != "" || p.Newer != "" {
					t.Fatalf("%s %q %q: %d entries, %d hidden, cursors %q %q; want %d, %d hidden, none", tt.view, tt.actor, tt.target,
						len(p.Entries), p.FailedSignInsHidden, p.Older, p.Newer, tt.n, tt.hidden)
				}
				for _, e := range p.Entries {
					if !slices.Contains(auditViews[tt.view], e.Kind) || (tt.target != "" && e.Target != tt.target) {
						t.Fatalf("%s shows an entry of kind %s: %+v", tt.view, e.Kind, e)
					}
				}
			}
		})
	}
}

// TestSQLAudit_kindMigration: rows written before migration 301 get their
// kind from their action and outcome.
func TestSQLAudit_kindMigration(t *testing.T) {
	for name, open := range auditEngines {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			if err := db.Migrate(ctx, auditMigrations[:1]); err != nil {
				t.Fatal(err)
			}
			for i, r := range [][2]string{{"sign-in", "refused: wrong user name or password"}, {"sign-in", "ok"},
				{"plugins.remove", "ok"}, {"sign-out", "ok"}} {
				_, err := db.Writer().ExecContext(ctx, `INSERT INTO warden_console_audit
(id, at, actor, client_addr, action, target, detail, outcome, finished_at) VALUES ($1, 1, 'ops', '', $2, '', '', $3, 1)`,
					fmt.Sprintf("%032x", i+1), r[0], r[1])
				if err != nil {
					t.Fatal(err)
				}
			}
			a, err := NewSQLAudit(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			es, err := recent(ctx, a, 10)
			var kinds []string
			for _, e := range es {
				kinds = append(kinds, e.Kind)
			}
			if err != nil || strings.Join(kinds, " ") != "sign-in change sign-in failed-sign-in" {
				t.Fatalf("kinds after the migration, newest first: %v, %v", kinds, err)
			}
		})
	}
}

// TestSQLAudit_pageUsesKindIndex: a view's query reads its kind's range of
// an index, in order, with no sort, so that failed sign-ins cost a page of
// changes nothing, however many there are. On SQLite, the planner's own
// choice; on PostgreSQL, whose planner reads a small table whole, that the
// index can serve it (sequential scans off).
func TestSQLAudit_pageUsesKindIndex(t *testing.T) {
	for name, open := range auditEngines {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			if _, err := NewSQLAudit(ctx, db); err != nil {
				t.Fatal(err)
			}
			conn, err := db.Reader().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			explain := "EXPLAIN QUERY PLAN "
			if name == "postgres" {
				explain = "EXPLAIN "
				if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
					t.Fatal(err)
				}
			}
			for _, tt := range []struct {
				name          string
				q             AuditQuery
				after, before string
				index         string
			}{
				{"newest", AuditQuery{}, "", "", "warden_console_audit_kind_id"},
				{"older", AuditQuery{}, "", "0a", "warden_console_audit_kind_id"},
				{"newer", AuditQuery{}, "0a", "", "warden_console_audit_kind_id"},
				{"actor", AuditQuery{Actor: "ops"}, "", "0a", "warden_console_audit_kind_actor"},
				{"target", AuditQuery{Target: "echo"}, "0a", "", "warden_console_audit_kind_target"},
			} {
				where, args := auditWhere(tt.q, AuditChange, tt.after, tt.before)
				rows, err := conn.QueryContext(ctx, explain+"SELECT id, actor FROM warden_console_audit WHERE "+where+" ORDER BY id DESC LIMIT 5", args...)
				if err != nil {
					t.Fatal(err)
				}
				cols, _ := rows.Columns()
				var plan []string
				for rows.Next() {
					vals := make([]any, len(cols))
					for i := range vals {
						vals[i] = new(any)
					}
					if err := rows.Scan(vals...); err != nil {
						t.Fatal(err)
					}
					plan = append(plan, fmt.Sprint(*vals[len(vals)-1].(*any)))
				}
				rows.Close()
				if p := strings.Join(plan, "; "); !strings.Contains(p, tt.index+" ") || strings.Contains(p, "TEMP B-TREE") || strings.Contains(p, "Sort") {
					t.Fatalf("%s: plan %q; want a read of %s, no sort", tt.name, p, tt.index)
				}
			}
		})
	}
}

// TestConsole_auditBadQuery: a bad audit query is a 400 with the
// console's JSON error, never a 500.
func TestConsole_auditBadQuery(t *testing.T) {
	f := newFixture(t, false)
	cl := f.client(t)
	f.signIn(t, cl)
	id := strings.Repeat("0a", 16)
	for _, tt := range []struct{ name, query, want string }{
		{"ErrKind", "kind=everything", `{"error":"unknown kind: want one of default, changes, sign-ins, failed-sign-ins, all"}`},
		{"ErrCursorShort", "before=0a", `{"error":"bad cursor: want an audit entry's id (32 hex digits)"}`},
		{"ErrCursorUpper", "after=" + strings.ToUpper(id), `{"error":"bad cursor: want an audit entry's id (32 hex digits)"}`},
		{"ErrCursorQuote", "before=" + id[:31] + "'", `{"error":"bad cursor: want an audit entry's id (32 hex digits)"}`},
		{"ErrBoth", "before=" + id + "&after=" + id, `{"error":"give before or after, not both"}`},
		{"ErrLimitBig", "limit=201", `{"error":"limit must be a number from 1 to 200"}`},
		{"ErrLimitZero", "limit=0", `{"error":"limit must be a number from 1 to 200"}`},
		{"ErrLimitWord", "limit=ten", `{"error":"limit must be a number from 1 to 200"}`},
		{"ErrActorAndTarget", "actor=ops&target=echo", `{"error":"filter by actor or by target, not both"}`},
		{"ErrActorLong", "actor=" + strings.Repeat("a", 257), `{"error":"actor or target over 256 bytes"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if s, b, _ := f.send(t, cl, "GET", "api/audit?"+tt.query, "", "", ""); s != http.StatusBadRequest || b != tt.want {
				t.Fatalf("%s: %d %s, want 400 %s", tt.query, s, b, tt.want)
			}
		})
	}
	for _, q := range []string{"kind=all&limit=200", "kind=failed-sign-ins&before=" + id, "kind=changes&after=" + id + "&limit=1", "target=echo", "kind=all&actor=" + strings.Repeat("a", 256)} {
		if s, b, _ := f.send(t, cl, "GET", "api/audit?"+q, "", "", ""); s != http.StatusOK || !strings.HasPrefix(b, `{"entries":[`) {
			t.Fatalf("%s: %d %s, want 200 and a page", q, s, b)
		}
	}
}
