package storage_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage"
)

func TestSession_Values(t *testing.T) {
	db := openDB(t, storage.Options{})
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE v(id INTEGER PRIMARY KEY, x ANY, t TEXT, b BLOB, i INTEGER, r REAL)")
	tests := []struct {
		name   string
		column string
		in     any
		want   any
	}{
		{name: "NULL", column: "x", in: nil, want: nil},
		{name: "EmptyText", column: "t", in: "", want: ""},
		{name: "Text", column: "t", in: "héllo\x00wörld", want: "héllo\x00wörld"},
		{name: "EmptyBlob", column: "b", in: []byte{}, want: []byte{}},
		{name: "NilBlobIsEmptyBlob", column: "b", in: []byte(nil), want: []byte{}},
		{name: "Blob", column: "b", in: []byte{0, 1, 255}, want: []byte{0, 1, 255}},
		{name: "EmptyBlobUntyped", column: "x", in: []byte{}, want: []byte{}},
		{name: "EmptyTextUntyped", column: "x", in: "", want: ""},
		{name: "NullInBlobColumn", column: "b", in: nil, want: nil},
		{name: "NullInTextColumn", column: "t", in: nil, want: nil},
		{name: "Int64Min", column: "i", in: int64(math.MinInt64), want: int64(math.MinInt64)},
		{name: "Int64Max", column: "i", in: int64(math.MaxInt64), want: int64(math.MaxInt64)},
		{name: "Float", column: "r", in: 1.5, want: 1.5},
		{name: "PlusInf", column: "r", in: math.Inf(1), want: math.Inf(1)},
		{name: "MinusInf", column: "r", in: math.Inf(-1), want: math.Inf(-1)},
		// SQLite has no NaN: binding one stores NULL.
		{name: "NaNIsNULL", column: "r", in: math.NaN(), want: nil},
		{name: "TextAffinity", column: "t", in: int64(42), want: "42"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := int64(i + 1)
			mustExec(t, s, fmt.Sprintf("INSERT INTO v(id, %s) VALUES (?, ?)", tt.column), id, tt.in)
			rows := mustQuery(t, s, fmt.Sprintf("SELECT %s FROM v WHERE id = ?", tt.column), id)
			if len(rows.Values) != 1 {
				t.Fatalf("got %d rows, want 1", len(rows.Values))
			}
			got := rows.Values[0][0]
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v (%T), want %#v (%T)", got, got, tt.want, tt.want)
			}
		})
	}
}

func TestSession_ValuesExpressions(t *testing.T) {
	s := session(t, openDB(t, storage.Options{}))
	rows := mustQuery(t, s, "SELECT NULL, '', x'', 1, 2.5, 'a', x'00', ?1, $2", "p1", int64(2))
	want := []any{nil, "", []byte{}, int64(1), 2.5, "a", []byte{0}, "p1", int64(2)}
	if !reflect.DeepEqual(rows.Values[0], want) {
		t.Errorf("got %#v, want %#v", rows.Values[0], want)
	}
	if len(rows.Columns) != len(want) || rows.Columns[3] != "1" {
		t.Errorf("Columns = %q", rows.Columns)
	}
}

// TestSession_DateColumn documents a conversion of modernc.org/sqlite: TEXT
// in a column declared DATETIME is parsed into a time and returned as TEXT in
// one fixed format.
func TestSession_DateColumn(t *testing.T) {
	s := session(t, openDB(t, storage.Options{}))
	mustExec(t, s, "CREATE TABLE d(at DATETIME)")
	mustExec(t, s, "INSERT INTO d VALUES ('2024-05-06 07:08:09'), ('not a date')")
	rows := mustQuery(t, s, "SELECT at FROM d ORDER BY rowid")
	want := []any{"2024-05-06 07:08:09+00:00", "not a date"}
	for i, w := range want {
		if got := rows.Values[i][0]; got != w {
			t.Errorf("row %d: got %#v, want %#v", i, got, w)
		}
	}
}

func TestSession_Args(t *testing.T) {
	s := session(t, openDB(t, storage.Options{}))
	tests := []struct {
		name string
		args []any
	}{
		{name: "Int", args: []any{1}},
		{name: "Bool", args: []any{true}},
		{name: "Time", args: []any{time.Now()}},
		{name: "Missing", args: nil},
		{name: "Unused", args: []any{int64(1), int64(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Query(context.Background(), "SELECT ?", tt.args)
			var sqlErr *storage.SQLError
			if !errors.As(err, &sqlErr) {
				t.Errorf("got %v, want *SQLError", err)
			}
		})
	}
}

func TestSession_Exec(t *testing.T) {
	s := session(t, openDB(t, storage.Options{}))
	mustExec(t, s, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
	tests := []struct {
		name  string
		query string
		want  int64
	}{
		{name: "Insert", query: "INSERT INTO t(v) VALUES ('a'), ('b'), ('c')", want: 3},
		{name: "Update", query: "UPDATE t SET v = 'x' WHERE id > 1", want: 2},
		{name: "Select", query: "SELECT * FROM t", want: 0},
		{name: "DDL", query: "CREATE INDEX t_v ON t(v)", want: 0},
		{name: "Delete", query: "DELETE FROM t", want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustExec(t, s, tt.query); got != tt.want {
				t.Errorf("rows affected = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSession_QueryWrites(t *testing.T) {
	db := openDB(t, storage.Options{})
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
	tests := []struct {
		name  string
		query string
	}{
		{name: "Returning", query: "INSERT INTO t(v) VALUES ('a') RETURNING id, v"},
		{name: "WithReturning", query: "WITH x(v) AS (VALUES ('a')) INSERT INTO t(v) SELECT v FROM x RETURNING id, v"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := mustQuery(t, s, tt.query)
			want := [][]any{{int64(i + 1), "a"}}
			if !reflect.DeepEqual(rows.Values, want) {
				t.Errorf("got %v, want %v", rows.Values, want)
			}
		})
	}
	if n := count(t, db, "t"); n != 2 {
		t.Errorf("count = %d, want 2", n)
	}
}

func TestSession_Canceled(t *testing.T) {
	s := session(t, openDB(t, storage.Options{}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Query(ctx, "SELECT 1", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Query: got %v, want context.Canceled", err)
	}
	if err := s.Begin(ctx, true); !errors.Is(err, context.Canceled) {
		t.Errorf("Begin: got %v, want context.Canceled", err)
	}
	if s.InTx() {
		t.Error("InTx after a canceled Begin")
	}
}
