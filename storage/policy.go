package storage

import (
	"database/sql"
	"database/sql/driver"
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
// The authorizer is installed on the pooled connection only for the duration
// of one plugin statement (see runWithPolicy), so Warden's own use of
// DB.Writer, and BEGIN/COMMIT/ROLLBACK issued by Session, are not subject to
// it. The one thing the authorizer cannot see is the new name in ALTER TABLE
// ... RENAME TO, which parse extracts and checkStatement refuses.
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
	if st.renameTo != "" && isReserved(st.renameTo) {
		return fmt.Errorf("%w: table %s is reserved for Warden", ErrNotAllowed, st.renameTo)
	}
	return nil
}

// runWithPolicy runs fn on the driver connection of c with the plugin
// policy installed, and removes the policy afterwards. The returned error is
// classified. If the policy cannot be removed the connection is discarded
// rather than returned to the pool, and an error is returned although the
// statement may have run (SQLite does not fail there in practice).
func runWithPolicy(c *sql.Conn, fn func(dc any, p *policy) error) error {
	p := &policy{}
	var runErr, removeErr error
	err := c.Raw(func(dc any) error {
		reg, ok := dc.(sqlite.AuthorizerRegisterer)
		if !ok {
			return fmt.Errorf("driver %T has no authorizer", dc)
		}
		if err := reg.RegisterAuthorizer(p.authorize); err != nil {
			return fmt.Errorf("install authorizer: %w", err)
		}
		runErr = fn(dc, p)
		if removeErr = reg.RegisterAuthorizer(nil); removeErr != nil {
			return driver.ErrBadConn
		}
		return nil
	})
	switch {
	case p.denied != "" && runErr != nil:
		return fmt.Errorf("%w: %s", ErrNotAllowed, p.denied)
	case runErr != nil:
		return classify(runErr)
	case removeErr != nil:
		return &SQLError{Msg: "remove authorizer: " + removeErr.Error(), Err: removeErr}
	}
	return classify(err)
}
