package storage

import (
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	"modernc.org/sqlite"
)

// reservedPrefix starts the names of Warden's own tables, which plugins may
// not touch.
const reservedPrefix = "warden_"

// policy is the SQLite authorizer for one plugin statement.
//
// The policy is enforced by SQLite itself: modernc.org/sqlite exposes
// sqlite3_set_authorizer as sqlite.AuthorizerRegisterer, and SQLite calls the
// authorizer for every action while it compiles a statement, including the
// statements it compiles internally (VACUUM is seen as an ATTACH, CREATE
// TABLE as writes to sqlite_master) and the bodies of triggers and views the
// statement would run (so a trigger or view reaching a Warden table can be
// created but never run). A refused action fails the prepare with
// SQLITE_AUTH, so nothing runs.
//
// A plugin works in the "main" database only: an action on any other (the
// connection's temp database, however it is spelled) is refused, as are
// SQLite's own tables and virtual tables but the schema (see systemTable),
// and virtual table modules but fts5. Direct writes to
// sqlite_master are refused by SQLite itself, in defensive mode.
//
// The authorizer stays installed on each connection (see connState) and
// applies a policy only while a plugin statement is prepared or run (see
// runPlugin), so Warden's own use of DB.Writer, and the BEGIN, COMMIT,
// ROLLBACK and SAVEPOINT that Session and the writer issue, are not subject
// to it. The one thing the authorizer cannot see is the new name in ALTER
// TABLE ... RENAME TO, which parse extracts and checkStatement refuses.
//
// SQLite calls the authorizer on the goroutine that prepares the statement,
// so the fields need no locking.
type policy struct {
	denied string // the first refused action, empty if none
	wrote  bool   // the statement inserts, updates or deletes rows
	text   string // the statement
	// upkeep is set for ANALYZE, DROP and ALTER statements, whose upkeep
	// of the planner's statistics (sqlite_stat1..4) SQLite compiles as
	// nested statements that the authorizer sees.
	upkeep bool
}

// newPolicy returns the policy for a statement starting with keyword.
func newPolicy(keyword string) *policy {
	switch keyword {
	case "ANALYZE", "DROP", "ALTER":
		return &policy{upkeep: true}
	}
	return &policy{}
}

// authorize is the sqlite.AuthorizerFn of the policy. db is the database
// the action is on ("" when none, as for a table read with no column
// named), inner the innermost trigger or view whose body the action is in.
func (p *policy) authorize(action sqlite.AuthorizerActionCode, arg1, arg2, db, inner string) sqlite.AuthorizerReturnCode {
	reason := ""
	switch {
	case p.tempUpkeep(action, arg1, db, inner):
	case db != "" && db != "main":
		reason = "database " + db + ": plugins use main only"
	default:
		reason = p.refusal(action, arg1, arg2, inner)
	}
	if reason == "" {
		switch action {
		case sqlite.AuthInsert, sqlite.AuthUpdate, sqlite.AuthDelete:
			p.wrote = p.wrote || !strings.HasPrefix(arg1, "sqlite_")
		}
		return sqlite.AuthorizerOK
	}
	if p.denied == "" {
		p.denied = reason
	}
	return sqlite.AuthorizerDeny
}

// tempUpkeep reports whether action is ALTER TABLE's own upkeep of the
// temp database's schema (RENAME rewrites the triggers there), which
// reads and rewrites sqlite_temp_master. A plugin has no object there.
func (p *policy) tempUpkeep(action sqlite.AuthorizerActionCode, table, db, inner string) bool {
	return p.upkeep && inner == "" && db == "temp" && strings.EqualFold(table, "sqlite_temp_master") &&
		(action == sqlite.AuthRead || action == sqlite.AuthUpdate)
}

// refusal returns why action is refused, or "" if it is allowed. The meaning
// of arg1 and arg2 per action is at https://www.sqlite.org/c3ref/c_alter_table.html.
func (p *policy) refusal(action sqlite.AuthorizerActionCode, arg1, arg2, inner string) string {
	switch action {
	case sqlite.AuthPragma:
		if strings.EqualFold(arg1, "data_version") && arg2 == "" {
			// Read-only, and read by fts5 before each use of a table.
			return ""
		}
		return "PRAGMA " + arg1
	case sqlite.AuthAttach:
		return "ATTACH or VACUUM"
	case sqlite.AuthDetach:
		return "DETACH"
	case sqlite.AuthTransaction, sqlite.AuthSavepoint:
		return arg1 + ": use Begin, Commit and Rollback"
	case sqlite.AuthFunction:
		switch {
		case strings.EqualFold(arg2, "load_extension"):
			return "load_extension"
		case strings.EqualFold(arg2, "geopoly_overlap"), strings.EqualFold(arg2, "geopoly_within"):
			// Their sweep costs the square of the vertices in one call
			// that SQLite never interrupts (the geopoly table is refused
			// already, as a virtual table module).
			return arg2
		}
		return ""
	case sqlite.AuthCreateTempIndex, sqlite.AuthCreateTempTable, sqlite.AuthCreateTempTrigger,
		sqlite.AuthCreateTempView, sqlite.AuthDropTempIndex, sqlite.AuthDropTempTable,
		sqlite.AuthDropTempTrigger, sqlite.AuthDropTempView:
		// A TEMP object lives on one pooled connection and would leak
		// into other plugins' sessions.
		return "temporary objects"
	case sqlite.AuthCreateIndex, sqlite.AuthCreateTrigger, sqlite.AuthDropIndex, sqlite.AuthDropTrigger:
		return reservedName(arg1, arg2) // index or trigger, and its table
	case sqlite.AuthAlterTable:
		return reservedName(arg2) // arg1 is the database
	case sqlite.AuthCreateVTable, sqlite.AuthDropVTable:
		if r := reservedName(arg1); r != "" {
			return r
		}
		if action == sqlite.AuthCreateVTable && strings.EqualFold(arg2, "fts5") && fts5DetailOption.MatchString(p.text) {
			return "fts5 tables with detail=column or detail=none"
		}
		return vtabModule(arg2)
	case sqlite.AuthRead, sqlite.AuthInsert, sqlite.AuthUpdate, sqlite.AuthDelete:
		if r := p.systemTable(arg1, inner); r != "" {
			return r
		}
		return reservedName(arg1) // arg2 is a column
	case sqlite.AuthCreateTable, sqlite.AuthDropTable, sqlite.AuthCreateView, sqlite.AuthDropView,
		sqlite.AuthAnalyze, sqlite.AuthReindex:
		return reservedName(arg1)
	}
	return ""
}

// systemTable returns a refusal if name is one of SQLite's own tables or
// virtual tables that a plugin may not read or write:
//   - sqlite_dbpage and dbstat, the raw pages of the whole file and their
//     statistics, and bytecode, tables_used and sqlite_stmt, which show
//     other statements;
//   - sqlite_stat1..4, the planner's statistics, which steer the plans of
//     Warden's statements too; only SQLite's own upkeep of them (ANALYZE,
//     DROP, ALTER, outside any trigger or view body) may touch them;
//   - sqlite_temp_master, the schema of the temp database.
//
// sqlite_master (also spelled sqlite_schema) and sqlite_sequence stay
// readable; writes to them are SQLite's own DDL and AUTOINCREMENT upkeep,
// and a direct write to sqlite_master is refused by SQLite in defensive
// mode.
func (p *policy) systemTable(name, inner string) string {
	n := strings.ToLower(name)
	switch {
	case n == "sqlite_master" || n == "sqlite_sequence":
		return ""
	case strings.HasPrefix(n, "sqlite_stat") && p.upkeep && inner == "":
		return ""
	case strings.HasPrefix(n, "sqlite_") || n == "dbstat" || n == "bytecode" || n == "tables_used":
		return "table " + name + " is SQLite's own"
	}
	return ""
}

// fts5DetailOption finds fts5's detail=column or detail=none option in
// the text of a CREATE VIRTUAL TABLE, as fts5 reads it (a case-insensitive
// key, white space around '=', a value bare or quoted). Such a table keeps
// no token positions, so the first auxiliary function that asks a row for
// its matches (highlight(), snippet(), bm25(), ORDER BY rank) has fts5
// tokenize the row again and compare every token with every phrase of the
// query, in one call SQLite never interrupts: 13 s under a 200 ms deadline
// (TestSession_deadlineFTS5Positions). The authorizer sees the module's
// name but not its arguments, so the statement's text is searched; a
// match elsewhere in it (a string, a comment) refuses the statement too,
// and fts5 accepts no spelling of the option the search misses (a comment
// inside the argument fails fts5's own parse).
var fts5DetailOption = regexp.MustCompile("(?i)detail[ \\t\\n\\r\\f\\v]*=[ \\t\\n\\r\\f\\v]*['\"`\\[]?(none|column)")

// vtabModule returns a refusal unless module is one a plugin may create a
// virtual table with: fts5, whose shadow tables defensive mode protects
// from direct writes. rtree is compiled in too, but reads sqlite_stat1
// and PRAGMA page_size whenever it connects.
func vtabModule(module string) string {
	if strings.EqualFold(module, "fts5") {
		return ""
	}
	return "virtual table module " + module
}

// reservedName returns a refusal if one of names is reserved for Warden.
func reservedName(names ...string) string {
	for _, n := range names {
		if isReserved(n) {
			return "table " + n + " is reserved for Warden"
		}
	}
	return ""
}

// isReserved reports whether name starts with "warden_", in any case, as
// SQLite names are case-insensitive.
func isReserved(name string) bool {
	return len(name) >= len(reservedPrefix) && strings.EqualFold(name[:len(reservedPrefix)], reservedPrefix)
}

// checkStatement applies the part of the policy the authorizer cannot see.
func checkStatement(st *statement) error {
	if st.keyword == "VACUUM" {
		// The authorizer would refuse it as an ATTACH at prepare, but
		// plugin writes run inside the writer's transaction, where SQLite
		// refuses VACUUM first, with a less helpful error.
		return fmt.Errorf("%w: ATTACH or VACUUM", ErrNotAllowed)
	}
	if st.renameTo != "" && isReserved(st.renameTo) {
		return fmt.Errorf("%w: table %s is reserved for Warden", ErrNotAllowed, st.renameTo)
	}
	return nil
}

// runPlugin runs fn on the driver connection of c with the plugin policy
// applied by the connection's authorizer. The returned error is
// classified.
func (db *DB) runPlugin(c *sql.Conn, st *statement, fn func(cs *connState, p *policy) error) error {
	cs, err := db.limitedState(c)
	if err != nil {
		return classify(err)
	}
	p := newPolicy(st.keyword)
	p.text = st.text
	var runErr error
	err = c.Raw(func(any) error {
		cs.policy = p
		defer func() { cs.policy = nil }()
		runErr = fn(cs, p)
		if runErr != nil && isNoMem(runErr) {
			cs.shrink() // so that the plugin's next statement has room (see shrink)
		}
		return nil
	})
	switch {
	case p.denied != "" && runErr != nil:
		return fmt.Errorf("%w: %s", ErrNotAllowed, p.denied)
	case runErr != nil:
		return classify(runErr)
	}
	return classify(err)
}
