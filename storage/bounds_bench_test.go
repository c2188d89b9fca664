package storage_test

import (
	"context"
	"testing"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// BenchmarkSession_readWrite is a plugin's usual statements, one
// autocommit upsert and one point read, on a database without bounds and
// on one with the server's bounds on its temporary files and memory, which
// every SQLite allocation of the second pays for.
func BenchmarkSession_readWrite(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts storage.Options
	}{
		{"unbounded", storage.Options{}},
		{"bounded", storage.Options{MaxTempBytes: abi.MaxDBTempFileBytes, MaxMemoryBytes: abi.MaxDBMemoryBytes}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := openDB(b, bc.opts)
			s := session(b, db)
			mustExec(b, s, "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)")
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				k := int64(i % 1000)
				if _, err := s.Exec(ctx, "INSERT INTO kv VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", []any{k, "value"}); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Query(ctx, "SELECT v FROM kv WHERE k = ?", []any{k}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
