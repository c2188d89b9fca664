package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// TestSession_SQLiteLimits checks that SQLite's own limits are the ABI's on
// the connections that run plugin statements: a value over
// abi.MaxValueBytes fails inside SQLite (SQLITE_TOOBIG) before it is built,
// with ErrLimit, whichever function would build it; so do SQL text over
// abi.MaxSQLBytes and a parameter number over abi.MaxSQLParams.
func TestSession_SQLiteLimits(t *testing.T) {
	over := abi.MaxValueBytes + 1
	tests := []struct {
		name  string
		query string
		args  []any
		write bool
		want  error
		msg   string // in the error, if set
	}{
		{name: "Zeroblob", query: "SELECT length(zeroblob(900000000))", want: storage.ErrLimit},
		{name: "ZeroblobInsert", query: "INSERT INTO t VALUES (zeroblob(900000000))", write: true, want: storage.ErrLimit},
		{name: "Randomblob", query: fmt.Sprintf("SELECT length(randomblob(%d))", over), want: storage.ErrLimit},
		{name: "Printf", query: fmt.Sprintf("SELECT length(printf('%%.*c', %d, 'x'))", over), want: storage.ErrLimit},
		{name: "Replace", query: fmt.Sprintf("SELECT length(replace(hex(zeroblob(%d)), '0', '00'))", abi.MaxValueBytes/3), want: storage.ErrLimit},
		{name: "GroupConcat", query: fmt.Sprintf(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT %d)
			SELECT length(group_concat(hex(zeroblob(50)), '')) FROM c`, over/100+1), want: storage.ErrLimit},
		{name: "Concat", query: "SELECT length(? || ?)", args: []any{make([]byte, over/2+1), make([]byte, over/2+1)}, want: storage.ErrLimit},
		{name: "BlobArg", query: "SELECT length(?)", args: []any{make([]byte, over)}, want: storage.ErrLimit},
		{name: "TextArg", query: "INSERT INTO t VALUES (?)", args: []any{strings.Repeat("x", over)}, write: true, want: storage.ErrLimit},
		{name: "AtLimit", query: fmt.Sprintf("SELECT length(zeroblob(%d))", abi.MaxValueBytes)},
		{name: "SQLText", query: "SELECT '" + strings.Repeat("x", abi.MaxSQLBytes) + "'", want: storage.ErrLimit},
		{name: "ParamNumber", query: fmt.Sprintf("SELECT ?%d", abi.MaxSQLParams+1), want: errSQL, msg: "variable number"},
		{name: "ParamNumberAtLimit", query: fmt.Sprintf("SELECT ?%d", abi.MaxSQLParams), args: make([]any, abi.MaxSQLParams)},
	}
	db := openDB(t, storage.Options{})
	mustExec(t, session(t, db), "CREATE TABLE t(v)")
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := session(t, db)
			var err error
			if tt.write {
				_, err = s.Exec(ctx, tt.query, tt.args)
			} else {
				_, err = s.Query(ctx, tt.query, tt.args)
			}
			checkErr(t, err, tt.want)
			if err != nil && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want %q in it", err, tt.msg)
			}
		})
	}
	if n := count(t, db, "t"); n != 0 {
		t.Errorf("%d rows written over the limit", n)
	}
	// A value at the limit, less its row's header, is stored.
	s := session(t, db)
	big := bytes.Repeat([]byte{7}, abi.MaxValueBytes-16)
	mustExec(t, s, "INSERT INTO t VALUES (?)", big)
	rows := mustQuery(t, s, "SELECT length(v) FROM t")
	if got := rows.Values[0][0]; got != int64(len(big)) {
		t.Errorf("stored %v bytes, want %d", got, len(big))
	}
}
