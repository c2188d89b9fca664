package storage

import (
	"database/sql"
	"fmt"
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
// statements it compiles internally (VACUUM is seen as an ATTACH) and the
// bodies of triggers and views the statement would run (so a trigger or view
// reaching a Warden table can be created but never run). A refused action
// fails the prepare with SQLITE_AUTH, so nothing runs.
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
}

// authorize is the sqlite.AuthorizerFn of the policy.
func (p *policy) authorize(action sqlite.AuthorizerActionCode, arg1, arg2, _, _ string) sqlite.AuthorizerReturnCode {
	reason := refusal(action, arg1, arg2)
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

// refusal returns why action is refused, or "" if it is allowed. The meaning
// of arg1 and arg2 per action is at https://www.sqlite.org/c3ref/c_alter_table.html.
func refusal(action sqlite.AuthorizerActionCode, arg1, arg2 string) string {
	switch action {
	case sqlite.AuthPragma:
		return "PRAGMA " + arg1
	case sqlite.AuthAttach:
		return "ATTACH or VACUUM"
	case sqlite.AuthDetach:
		return "DETACH"
	case sqlite.AuthTransaction, sqlite.AuthSavepoint:
		return arg1 + ": use Begin, Commit and Rollback"
	case sqlite.AuthFunction:
		if strings.EqualFold(arg2, "load_extension") {
			return "load_extension"
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
	case sqlite.AuthInsert, sqlite.AuthUpdate, sqlite.AuthDelete, sqlite.AuthRead,
		sqlite.AuthCreateTable, sqlite.AuthDropTable, sqlite.AuthCreateView, sqlite.AuthDropView,
		sqlite.AuthCreateVTable, sqlite.AuthDropVTable, sqlite.AuthAnalyze, sqlite.AuthReindex:
		return reservedName(arg1) // arg2 is a column or module name
	}
	return ""
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
func (db *DB) runPlugin(c *sql.Conn, fn func(cs *connState, p *policy) error) error {
	p := &policy{}
	var runErr error
	err := c.Raw(func(dc any) error {
		cs, err := db.connState(dc)
		if err != nil {
			return err
		}
		cs.policy = p
		defer func() { cs.policy = nil }()
		runErr = fn(cs, p)
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
