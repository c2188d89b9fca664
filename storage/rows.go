package storage

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"time"
)

// Rows is the whole result of a Query.
//
// Each value is one of exactly five types: nil (NULL), int64 (INTEGER),
// float64 (REAL), string (TEXT) or []byte (BLOB). An empty BLOB is a non-nil
// []byte{} and an empty TEXT is "". SQLite stores a float NaN as NULL.
//
// # Notes
//
// modernc.org/sqlite parses TEXT values of columns declared exactly DATE,
// DATETIME or TIMESTAMP into time.Time. Such values come back as TEXT in the
// form "2006-01-02 15:04:05.999999999-07:00", which SQLite's date functions
// read, but which may be spelled differently from the stored text.
type Rows struct {
	// Columns are the result column names.
	Columns []string
	// Values holds one slice per row, each as long as Columns. It is empty,
	// not nil, when there are no rows.
	Values [][]any
}

// timeFormat is how a time.Time from the driver is returned as TEXT.
const timeFormat = "2006-01-02 15:04:05.999999999-07:00"

// minValueSize is the least a value counts towards MaxResultBytes: an
// INTEGER's or REAL's 8 bytes. NULL and short TEXT and BLOB values count as
// much, since the host holds each value of a result whatever its size; were
// they free, one query of wide rows of NULLs would make the host hold
// hundreds of megabytes.
const minValueSize = 8

// bytesType is the scan type modernc.org/sqlite reports for a BLOB value.
var bytesType = reflect.TypeFor[[]byte]()

// execDriver runs st on a connection and returns the rows affected, or 0
// for a statement that changes no rows (SQLite would report the count of the
// connection's previous INSERT, UPDATE or DELETE).
func execDriver(ctx context.Context, cs *connState, p *policy, st *statement) (n int64, err error) {
	defer cs.watch(ctx)()
	defer func() { err = deadlineFirst(ctx, err) }()
	ps, err := cs.prepare(ctx, p, st.text)
	if err != nil {
		return 0, err
	}
	defer ps.release()
	res, err := ps.ds.(driver.StmtExecContext).ExecContext(ctx, st.args)
	if err != nil || !p.wrote {
		return 0, err
	}
	return res.RowsAffected()
}

// queryDriver runs st on a connection and reads every row.
func queryDriver(ctx context.Context, cs *connState, p *policy, st *statement, lim limits) (_ *Rows, err error) {
	defer cs.watch(ctx)()
	defer func() { err = deadlineFirst(ctx, err) }()
	ps, err := cs.prepare(ctx, p, st.text)
	if err != nil {
		return nil, err
	}
	defer ps.release()
	dr, err := ps.ds.(driver.StmtQueryContext).QueryContext(ctx, st.args)
	if err != nil {
		return nil, err
	}
	rows, err := readRows(ctx, cs.dc, dr, lim)
	if cerr := dr.Close(); err == nil && cerr != nil {
		return nil, cerr
	}
	return rows, err
}

// deadlineFirst returns ctx's error in place of err when a statement
// failed after ctx was done: its allocations failed for the deadline
// (see connState.watch), not for memory.
func deadlineFirst(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// limits bounds one Query result.
type limits struct {
	rows, bytes int
}

// readRows materialises dr, rows of driver connection dc, enforcing lim.
func readRows(ctx context.Context, dc any, dr driver.Rows, lim limits) (*Rows, error) {
	cols := dr.Columns()
	out := &Rows{Columns: cols, Values: [][]any{}}
	dest := make([]driver.Value, len(cols))
	types, _ := dr.(driver.RowsColumnTypeScanType)
	var pr *peekedRow
	if p := peekFor(dr); p != nil {
		if tls, db := driverConn(dc); tls != nil {
			pr = &peekedRow{p: p, rows: reflect.ValueOf(dr).UnsafePointer(), tls: tls, db: db}
		}
	}
	size := 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if pr != nil {
			// The row is measured before the driver copies it (see rowPeek).
			n, more, err := pr.next()
			switch {
			case err != nil:
				return nil, err
			case !more:
				return out, nil
			case len(out.Values) == lim.rows:
				return nil, fmt.Errorf("%w: more than %d rows", ErrLimit, lim.rows)
			case size+n > lim.bytes:
				return nil, fmt.Errorf("%w: more than %d bytes", ErrLimit, lim.bytes)
			}
		}
		err := dr.Next(dest)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(out.Values) == lim.rows {
			return nil, fmt.Errorf("%w: more than %d rows", ErrLimit, lim.rows)
		}
		row := make([]any, len(cols))
		for i, v := range dest {
			if v == nil && types != nil && types.ColumnTypeScanType(i) == bytesType {
				v = []byte{} // the driver returns an empty BLOB as nil
			}
			n, err := normalize(v)
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", cols[i], err)
			}
			row[i], size = n, size+ValueSize(n)
		}
		if size > lim.bytes {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrLimit, lim.bytes)
		}
		out.Values = append(out.Values, row)
	}
}

// normalize converts a driver value to one of the five API types.
func normalize(v driver.Value) (any, error) {
	switch x := v.(type) {
	case nil, int64, float64, string:
		return x, nil
	case []byte:
		if len(x) == 0 {
			return []byte{}, nil // bytes.Clone may return nil
		}
		return bytes.Clone(x), nil // the driver may reuse its buffer
	case time.Time:
		return x.Format(timeFormat), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	}
	return nil, &SQLError{Msg: fmt.Sprintf("unsupported result type %T", v)}
}

// ValueSize is what v, one of the five Rows value types, counts towards
// Options.MaxResultBytes; the PostgreSQL engine counts the same. A TEXT or
// BLOB value counts its length, and every value at least minValueSize, so
// that a stored value of MaxValueBytes can still be returned whole.
func ValueSize(v any) int {
	n := minValueSize
	switch x := v.(type) {
	case string:
		n = max(n, len(x))
	case []byte:
		n = max(n, len(x))
	}
	return n
}
