package storage

import (
	"database/sql/driver"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// rowPeek lets readRows measure a result row while it is still SQLite's,
// before the driver copies it into Go. The driver (modernc.org/sqlite)
// steps to a row and copies every column in one Next, and a row of 60
// columns sharing one 4 MB value is 240 MB of Go memory before a limit of
// 4 MiB can refuse it. So readRows steps the statement itself, sums the
// row's sizes with sqlite3_column_bytes, and only then lets Next copy it
// (without stepping again).
//
// The driver does not export its statement: rowPeek finds, with reflect,
// the fields of its rows type that hold it (rows.pstmt, rows.doStep,
// rows.empty), and checks their types; the connection's TLS and handle
// come from driverConn. A driver whose types differ gets no peek (peekFor
// returns nil), and TestRowPeek_driverFields fails.
type rowPeek struct {
	pstmt, doStep, empty uintptr // offsets in the driver's rows
	rowsType             reflect.Type
}

var (
	peekOnce sync.Once
	peek     *rowPeek
)

// peekFor returns the rowPeek for driver rows dr, or nil when its type is
// not the one expected.
func peekFor(dr driver.Rows) *rowPeek {
	t := reflect.TypeOf(dr)
	peekOnce.Do(func() { peek = newRowPeek(t) })
	if peek == nil || peek.rowsType != t {
		return nil
	}
	return peek
}

// newRowPeek finds the fields in t, a pointer to the driver's rows type.
func newRowPeek(t reflect.Type) *rowPeek {
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	rt, boolT := t.Elem(), reflect.TypeOf(false)
	p := &rowPeek{rowsType: t}
	var ok [3]bool
	p.pstmt, ok[0] = fieldOffset(rt, "pstmt", reflect.TypeOf(uintptr(0)))
	p.doStep, ok[1] = fieldOffset(rt, "doStep", boolT)
	p.empty, ok[2] = fieldOffset(rt, "empty", boolT)
	if !ok[0] || !ok[1] || !ok[2] {
		return nil
	}
	return p
}

// fieldOffset returns the offset of struct st's own field name, and
// whether it has one of type want.
func fieldOffset(st reflect.Type, name string, want reflect.Type) (uintptr, bool) {
	f, ok := st.FieldByName(name)
	if !ok || len(f.Index) != 1 || f.Type != want {
		return 0, false
	}
	return f.Offset, true
}

// peekedRow is one driver rows seen through a rowPeek, with its
// connection's TLS and handle (driverConn).
type peekedRow struct {
	p    *rowPeek
	rows unsafe.Pointer
	tls  *libc.TLS
	db   uintptr
}

func (r peekedRow) ptr(off uintptr) unsafe.Pointer { return unsafe.Add(r.rows, off) }
func (r peekedRow) pstmt() uintptr                 { return *(*uintptr)(r.ptr(r.p.pstmt)) }

// next steps to the next row unless the driver has (its first row, which
// its query stepped to), and reports whether there is one, and its size
// as ValueSize would count its values.
//
// # Errors
//
// The step's error, as a *stepError.
func (r peekedRow) next() (size int, more bool, err error) {
	if *(*bool)(r.ptr(r.p.empty)) {
		return 0, false, nil
	}
	tls, pstmt := r.tls, r.pstmt()
	doStep := (*bool)(r.ptr(r.p.doStep))
	if *doStep {
		switch rc := sqlite3.Xsqlite3_step(tls, pstmt); rc {
		case sqlite3.SQLITE_ROW:
			*doStep = false // Next copies this row without stepping
		case sqlite3.SQLITE_DONE:
			return 0, false, nil
		default:
			return 0, false, &stepError{code: int(rc), msg: fmt.Sprintf("%s: %s (%d)",
				libc.GoString(sqlite3.Xsqlite3_errstr(tls, rc)), libc.GoString(sqlite3.Xsqlite3_errmsg(tls, r.db)), rc)}
		}
	}
	n := int(sqlite3.Xsqlite3_column_count(tls, pstmt))
	for i := range n {
		v := minValueSize
		switch sqlite3.Xsqlite3_column_type(tls, pstmt, int32(i)) {
		case sqlite3.SQLITE_TEXT, sqlite3.SQLITE_BLOB:
			v = max(v, int(sqlite3.Xsqlite3_column_bytes(tls, pstmt, int32(i))))
		}
		size += v
	}
	return size, true, nil
}

// stepError is a failed step of a peeked statement, with SQLite's result
// code, as the driver's *sqlite.Error carries it.
type stepError struct {
	code int
	msg  string
}

// Error returns SQLite's message.
func (e *stepError) Error() string { return e.msg }

// Code returns SQLite's result code.
func (e *stepError) Code() int { return e.code }

// connFields are the offsets of the libc TLS and the sqlite3 handle in a
// driver connection type.
type connFields struct {
	tls, db uintptr
}

var connFieldsOf sync.Map // reflect.Type -> *connFields, or nil when the type has none

// driverConn returns the libc TLS and the sqlite3 handle of driver
// connection dc, through its unexported fields tls and db (as rowPeek
// reads the driver's rows), or nil and 0 when dc is not laid out so.
func driverConn(dc any) (*libc.TLS, uintptr) {
	t := reflect.TypeOf(dc)
	v, ok := connFieldsOf.Load(t)
	if !ok {
		var c *connFields
		if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
			tls, okT := fieldOffset(t.Elem(), "tls", reflect.TypeOf((*libc.TLS)(nil)))
			db, okD := fieldOffset(t.Elem(), "db", reflect.TypeOf(uintptr(0)))
			if okT && okD {
				c = &connFields{tls: tls, db: db}
			}
		}
		v, _ = connFieldsOf.LoadOrStore(t, c)
	}
	c := v.(*connFields)
	if c == nil {
		return nil, 0
	}
	p := reflect.ValueOf(dc).UnsafePointer()
	return *(**libc.TLS)(unsafe.Add(p, c.tls)), *(*uintptr)(unsafe.Add(p, c.db))
}
