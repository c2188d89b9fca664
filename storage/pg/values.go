package pg

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// PostgreSQL type OIDs the value mapping knows.
const (
	oidUnknown = 0
	oidBool    = 16
	oidBytea   = 17
	oidInt8    = 20
	oidInt2    = 21
	oidInt4    = 23
	oidOID     = 26
	oidFloat4  = 700
	oidFloat8  = 701
	oidNumeric = 1700
)

// Wire formats of parameters and results.
const (
	formatText   = 0
	formatBinary = 1
)

// params are a statement's encoded parameters.
type params struct {
	values  [][]byte
	oids    []uint32
	formats []int16
}

// encodeArgs encodes the five API value types: int64 as int8, float64 as
// float8 (NaN as NULL, as SQLite stores it), []byte as bytea (nil as an
// empty one), string as a text literal of unknown type, which PostgreSQL
// types from where it is used (as it types 'abc' in SQL), and nil as NULL.
//
// # Errors
//
// A *storage.SQLError for a value of another type, and storage.ErrLimit
// for a TEXT or BLOB value over abi.MaxValueBytes, which SQLite refuses
// too (SQLITE_LIMIT_LENGTH).
func encodeArgs(args []any) (*params, error) {
	p := &params{
		values:  make([][]byte, len(args)),
		oids:    make([]uint32, len(args)),
		formats: make([]int16, len(args)),
	}
	for i, a := range args {
		switch v := a.(type) {
		case nil:
			p.oids[i] = oidUnknown
		case int64:
			p.values[i], p.oids[i], p.formats[i] = binary.BigEndian.AppendUint64(nil, uint64(v)), oidInt8, formatBinary
		case float64:
			p.oids[i], p.formats[i] = oidFloat8, formatBinary
			if !math.IsNaN(v) {
				p.values[i] = binary.BigEndian.AppendUint64(nil, math.Float64bits(v))
			}
		case string:
			if len(v) > abi.MaxValueBytes {
				return nil, errValueTooLong(i)
			}
			p.values[i], p.oids[i] = []byte(v), oidUnknown
		case []byte:
			if len(v) > abi.MaxValueBytes {
				return nil, errValueTooLong(i)
			}
			p.values[i], p.oids[i], p.formats[i] = v, oidBytea, formatBinary
			if v == nil {
				p.values[i] = []byte{}
			}
		default:
			return nil, &storage.SQLError{Msg: fmt.Sprintf("argument %d: unsupported type %T", i+1, a)}
		}
	}
	return p, nil
}

// errValueTooLong is the error of argument i, a TEXT or BLOB value over
// abi.MaxValueBytes.
func errValueTooLong(i int) error {
	return fmt.Errorf("%w: argument %d is over %d bytes", storage.ErrLimit, i+1, abi.MaxValueBytes)
}

// decodeValue converts a text-format result value to an API value: NULL is
// nil; bool is int64 1 or 0 (SQLite's booleans); int2, int4, int8 and oid
// are int64; float4 and float8 are float64, with NaN as nil; numeric is
// int64 when it is a whole number that fits, else float64; bytea is []byte;
// every other type is its text (as timestamps, uuid or json print).
func decodeValue(oid uint32, raw []byte) (any, error) {
	if raw == nil {
		return nil, nil
	}
	s := string(raw)
	switch oid {
	case oidBool:
		if s == "t" {
			return int64(1), nil
		}
		return int64(0), nil
	case oidInt2, oidInt4, oidInt8, oidOID:
		return strconv.ParseInt(s, 10, 64)
	case oidFloat4, oidFloat8:
		return parseFloat(s)
	case oidNumeric:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		return parseFloat(s)
	case oidBytea:
		if !strings.HasPrefix(s, `\x`) {
			return nil, fmt.Errorf("bytea not in hex format")
		}
		b := make([]byte, hex.DecodedLen(len(s)-2))
		_, err := hex.Decode(b, raw[2:])
		return b, err
	}
	return s, nil
}

// parseFloat parses a float, returning nil for NaN.
func parseFloat(s string) (any, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return nil, err
	}
	return f, nil
}

// limits bounds one Query result.
type limits struct {
	rows, bytes int
}

// collect reads rr: if lim is set, its rows within lim. It returns the rows
// affected by an INSERT, UPDATE, DELETE or MERGE (0 for other statements)
// and the rows.
//
// A result over lim calls cancel, which cancels the statement's context;
// pgconn reacts by closing the connection, so the rest of a large result
// is never read, and the session discards the connection.
func collect(rr *pgconn.ResultReader, lim *limits, cancel context.CancelFunc) (int64, *storage.Rows, error) {
	var rows *storage.Rows
	var limitErr error
	if lim != nil {
		rows, limitErr = readRows(rr, *lim)
		if limitErr != nil {
			cancel()
		}
	}
	tag, err := rr.Close()
	if limitErr != nil {
		return 0, nil, limitErr
	}
	if err != nil {
		return 0, nil, err
	}
	if tag.Insert() || tag.Update() || tag.Delete() || strings.HasPrefix(tag.String(), "MERGE") {
		return tag.RowsAffected(), rows, nil
	}
	return 0, rows, nil
}

// readRows materialises the rows of rr within lim.
func readRows(rr *pgconn.ResultReader, lim limits) (*storage.Rows, error) {
	fields := rr.FieldDescriptions()
	out := &storage.Rows{Columns: make([]string, len(fields)), Values: [][]any{}}
	for i, f := range fields {
		out.Columns[i] = f.Name
	}
	size := 0
	for rr.NextRow() {
		if len(out.Values) == lim.rows {
			return nil, fmt.Errorf("%w: more than %d rows", storage.ErrLimit, lim.rows)
		}
		raw := rr.Values()
		row := make([]any, len(raw))
		for i, r := range raw {
			v, err := decodeValue(fields[i].DataTypeOID, r)
			if err != nil {
				return nil, &storage.SQLError{Msg: fmt.Sprintf("column %q: %v", fields[i].Name, err), Err: err}
			}
			row[i], size = v, size+storage.ValueSize(v)
		}
		if size > lim.bytes {
			return nil, fmt.Errorf("%w: more than %d bytes", storage.ErrLimit, lim.bytes)
		}
		out.Values = append(out.Values, row)
	}
	return out, nil
}
