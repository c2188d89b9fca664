package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/storage"
)

func TestSession_QueryLimits(t *testing.T) {
	db := openDB(t, storage.Options{MaxRows: 3, MaxResultBytes: 64})
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)")
	mustExec(t, s, "INSERT INTO t(id) VALUES (1), (2), (3), (4)")
	tests := []struct {
		name  string
		query string
		args  []any
		want  error
	}{
		{name: "RowsAtLimit", query: "SELECT id FROM t LIMIT 3"},
		{name: "RowsOverLimit", query: "SELECT id FROM t", want: storage.ErrLimit},
		{name: "BytesAtLimit", query: "SELECT ?", args: []any{strings.Repeat("x", 64)}},
		{name: "BytesOverLimit", query: "SELECT ?", args: []any{strings.Repeat("x", 65)}, want: storage.ErrLimit},
		{name: "BlobOverLimit", query: "SELECT ?", args: []any{make([]byte, 65)}, want: storage.ErrLimit},
		{name: "NumbersAtLimit", query: "SELECT 1, 2.0, 3, 4, 5, 6, 7, 8"},
		{name: "NumbersOverLimit", query: "SELECT 1, 2.0, 3, 4, 5, 6, 7, 8, 9", want: storage.ErrLimit},
		// A value the host holds costs it memory whatever its size, so
		// NULL and empty values count as a number does: else one query
		// of wide rows of NULLs returns more than the limit allows.
		{name: "NullsAtLimit", query: "SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"},
		{name: "NullsOverLimit", query: "SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL", want: storage.ErrLimit},
		{name: "EmptyValuesOverLimit", query: "SELECT '', x'', '', x'', '', x'', '', x'', ''", want: storage.ErrLimit},
		{name: "ShortTextCountsAsNumber", query: "SELECT 'a', 2, 3, 4, 5, 6, 7, 'b'"},
		{name: "BytesAcrossRows", query: "SELECT zeroblob(30) FROM t LIMIT 3", want: storage.ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := s.Query(context.Background(), tt.query, tt.args)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err != nil && rows != nil {
				t.Error("partial result returned with ErrLimit")
			}
		})
	}
}

func TestSession_QueryEmpty(t *testing.T) {
	s := session(t, openDB(t, storage.Options{}))
	mustExec(t, s, "CREATE TABLE t(a, b)")
	rows := mustQuery(t, s, "SELECT a, b FROM t")
	if rows.Values == nil || len(rows.Values) != 0 {
		t.Errorf("Values = %#v, want empty and not nil", rows.Values)
	}
	if len(rows.Columns) != 2 || rows.Columns[0] != "a" || rows.Columns[1] != "b" {
		t.Errorf("Columns = %q, want [a b]", rows.Columns)
	}
}
