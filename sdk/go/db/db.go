// Package db runs SQL on the Warden server's database from a plugin (ABI.md
// 3.5): Exec and Query with positional parameters ($1, $2, ...), typed
// values, and transactions. One database serves all plugins; keep to the
// portable SQL of ABI.md section 6, and prefix tables with the plugin's name.
//
//	_, err := db.Exec("CREATE TABLE IF NOT EXISTS hello_seen (name TEXT PRIMARY KEY, n BIGINT NOT NULL)")
//	res, err := db.Query("SELECT n FROM hello_seen WHERE name = $1", name)
//	err = db.Transaction(db.ReadWrite, func(tx *db.Tx) error {
//		_, err := tx.Exec("INSERT INTO hello_seen (name, n) VALUES ($1, 1)"+
//			" ON CONFLICT (name) DO UPDATE SET n = hello_seen.n + 1", name)
//		return err
//	})
//
// Failures are *Error values that wrap the host's warden.Status, so that
// errors.Is(err, warden.StatusDBBusy) tells a retryable failure. A handler
// that returns one fails with CodeUnavailable when it is retryable and
// CodeInternal otherwise.
package db

import (
	"strconv"

	warden "github.com/warden-rpc/warden/sdk/go"
	"github.com/warden-rpc/warden/sdk/go/internal/sys"
)

// Error is a failed database call: the host's status and message.
type Error struct {
	Status  warden.Status
	Message string
}

// Error implements error: "DB_ERROR: no such table: t".
func (e *Error) Error() string { return e.Status.String() + ": " + e.Message }

// Unwrap returns the Status, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Status }

// fromStatus returns the Error for a failed host call, with the host's message.
func fromStatus(st int64) *Error {
	s, msg := sys.Failure(st)
	if msg == "" {
		msg = warden.Status(s).String()
	}
	return &Error{Status: warden.Status(s), Message: msg}
}

func check(st int32) error {
	if st == sys.OK {
		return nil
	}
	return fromStatus(int64(st))
}

// Engine identifies the database engine (db_engine).
type Engine int32

// Engines.
const (
	EngineNone     Engine = 0
	EngineSQLite   Engine = 1
	EnginePostgres Engine = 2 // PostgreSQL: a schema and a role per plugin
)

// String returns "none", "sqlite", "postgresql" or the number.
func (e Engine) String() string {
	switch e {
	case EngineNone:
		return "none"
	case EngineSQLite:
		return "sqlite"
	case EnginePostgres:
		return "postgresql"
	}
	return strconv.Itoa(int(e))
}

// CurrentEngine returns the engine that serves this plugin's statements.
// Branch on it only where portable SQL cannot do.
func CurrentEngine() Engine { return Engine(sys.DBEngine()) }

// Result is the result of a query: the column names, then the rows, each
// with one Value per column.
type Result struct {
	Columns []string
	Rows    [][]Value
}

// Column returns the index of the first column named name, or -1.
func (r *Result) Column(name string) int {
	for i, c := range r.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// encodeArgs converts args with valueOf and encodes them.
func encodeArgs(args []any) ([]byte, error) {
	vals := make([]Value, len(args))
	for i, a := range args {
		v, err := valueOf(a)
		if err != nil {
			return nil, &Error{Status: warden.StatusBadArgument, Message: "parameter $" + strconv.Itoa(i+1) + ": " + err.Error()}
		}
		vals[i] = v
	}
	return encodeValues(vals), nil
}

// Exec runs a statement that returns no rows and returns the number of rows
// affected. args are the values of $1, $2, ...: Value, nil, bool, integers,
// floats, string or []byte.
//
// # Errors
//
// An *Error with StatusDBError (the SQL failed), StatusDBBusy (retry),
// StatusTxFailed, StatusDBReadOnly, StatusNotAllowed (refused by policy),
// StatusBadArgument (an unsupported parameter type), StatusLimitExceeded
// or StatusCancelled.
func Exec(sql string, args ...any) (int64, error) {
	a, err := encodeArgs(args)
	if err != nil {
		return 0, err
	}
	n := sys.DBExec(sql, a)
	if n < 0 {
		return 0, fromStatus(n)
	}
	return n, nil
}

// Query runs a statement that returns rows, including INSERT ... RETURNING.
//
// # Errors
//
// As Exec, and StatusLimitExceeded when the result has more rows or bytes
// than the server allows.
func Query(sql string, args ...any) (*Result, error) {
	a, err := encodeArgs(args)
	if err != nil {
		return nil, err
	}
	b, st := sys.TakeResult(sys.DBQuery(sql, a))
	if st != int64(sys.OK) {
		return nil, fromStatus(st)
	}
	res, err := decodeResult(b)
	if err != nil {
		return nil, &Error{Status: warden.StatusInternal, Message: "decode query result: " + err.Error()}
	}
	return res, nil
}

// TxMode is the mode of a transaction.
type TxMode int32

// Transaction modes.
const (
	// ReadOnly transactions fail writes with StatusDBReadOnly.
	ReadOnly TxMode = 0
	// ReadWrite transactions take the write lock at Begin, so they cannot
	// fail later for lock upgrade.
	ReadWrite TxMode = 1
)

// Begin starts a transaction. Prefer Transaction, which always ends it.
// After a failed statement, every statement and Commit fail with
// StatusTxFailed until Rollback. A transaction still open when the call
// ends is rolled back.
//
// # Errors
//
// StatusTxState inside a transaction; StatusDBBusy.
func Begin(mode TxMode) error { return check(sys.DBBegin(int32(mode))) }

// Commit commits the transaction.
//
// # Errors
//
// StatusTxState outside a transaction; StatusTxFailed (and the transaction
// is rolled back) when a statement had failed; StatusDBBusy.
func Commit() error { return check(sys.DBCommit()) }

// Rollback rolls the transaction back.
//
// # Errors
//
// StatusTxState outside a transaction.
func Rollback() error { return check(sys.DBRollback()) }

// Tx runs statements inside Transaction. It is the package's Exec and
// Query, named so that the transaction's scope reads in the code.
type Tx struct {
	_ [0]func()
}

// Exec is Exec inside the transaction.
func (*Tx) Exec(sql string, args ...any) (int64, error) { return Exec(sql, args...) }

// Query is Query inside the transaction.
func (*Tx) Query(sql string, args ...any) (*Result, error) { return Query(sql, args...) }

// transactionOnce runs fn in a transaction: it commits when fn returns nil
// and rolls back when fn returns an error or panics.
//
// # Errors
//
// fn's error, or Begin's or Commit's.
func transactionOnce(mode TxMode, fn func(tx *Tx) error) (err error) {
	if err := Begin(mode); err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			_ = Rollback() // fn panicked; the panic goes on
		}
	}()
	err = fn(&Tx{})
	done = true
	if err != nil {
		_ = Rollback() // the error that matters is fn's
		return err
	}
	if err := Commit(); err != nil {
		_ = Rollback() // the host rolled back already after TX_FAILED
		return err
	}
	return nil
}
