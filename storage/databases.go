package storage

import (
	"context"
	"fmt"

	"github.com/warden-rpc/warden/abi"
)

// Databases hands out one database per plugin: the boundary between the
// host and a storage engine. A plugin's database holds its own tables and
// nothing else; no plugin reaches another's, nor Warden's own data, which
// lives apart. Dir is the SQLite engine; storage/pg, the PostgreSQL engine,
// gives each plugin a schema and a role of its own behind the same
// interface.
type Databases interface {
	// Engine names the engine: "sqlite" (Dir) or "postgres" (storage/pg).
	Engine() string
	// ForPlugin returns the database of the plugin named plugin, the same
	// one for every version of that plugin. Release it with Close.
	//
	// # Errors
	//
	// ErrBadName for a name the engine cannot hold (see CheckPluginName),
	// ErrClosed, or the engine's error opening the database.
	ForPlugin(ctx context.Context, plugin string) (PluginDB, error)
}

// PluginDB is one plugin's database, as ForPlugin returned it.
type PluginDB interface {
	// NewSession returns a session for one plugin call. Close it when the
	// call ends.
	NewSession() PluginSession
	// Close releases this handle; the engine may close the database once no
	// handle is left. Sessions opened before keep working until the
	// database closes, then fail with ErrClosed.
	Close() error
}

// PluginSession runs one plugin call's statements under the plugin policy;
// *Session is SQLite's. Its errors are classified with the package's
// sentinels (ErrBusy, ErrTxFailed, ErrTxOpen, ErrNoTx, ErrReadOnly,
// ErrLimit, ErrNotAllowed, ErrClosed), *SQLError, or a context error, so
// that a caller maps them to statuses without knowing the engine.
type PluginSession interface {
	// Exec runs a statement and returns the rows it changed.
	Exec(ctx context.Context, query string, args []any) (rowsAffected int64, err error)
	// Query runs a statement and returns all its rows.
	Query(ctx context.Context, query string, args []any) (*Rows, error)
	// Begin opens a transaction, a write transaction if write is set.
	Begin(ctx context.Context, write bool) error
	// Commit commits the open transaction.
	Commit(ctx context.Context) error
	// Rollback rolls the open transaction back.
	Rollback(ctx context.Context) error
	// InTx reports whether a transaction is open.
	InTx() bool
	// Close rolls back an open transaction and ends the session.
	Close() error
}

// Guards: SQLite's types fit the boundary.
var (
	_ Databases     = (*Dir)(nil)
	_ PluginSession = (*Session)(nil)
)

// CheckPluginName reports whether name can name a plugin's database: 1 to
// abi.MaxPluginNameBytes (63) characters from [A-Za-z0-9_.-], not starting with '.' or '-'. Such a
// name is a safe file name on every system and, quoted, a PostgreSQL
// schema and role name.
//
// # Errors
//
// ErrBadName, naming the plugin and the rule.
func CheckPluginName(name string) error {
	if name == "" || len(name) > abi.MaxPluginNameBytes || name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("%w: %q: want 1 to %d characters, not starting with '.' or '-'", ErrBadName, name, abi.MaxPluginNameBytes)
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
		if !ok {
			return fmt.Errorf("%w: %q: only letters, digits, '_', '.' and '-' are allowed", ErrBadName, name)
		}
	}
	return nil
}
