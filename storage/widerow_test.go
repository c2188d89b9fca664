package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// TestSession_wideRowMemory: a query whose one row has 60 columns of 4 MB
// each (one value, repeated) is over the 4 MiB result limit, and fails
// with ErrLimit; but the limit is checked once the row is whole, after
// SQLite built each column in its registers and the driver copied each
// into Go. So the host held some 250 to 500 MB for it (one copy or two),
// and 2000 columns (SQLITE_LIMIT_COLUMN) make 8 to 16 GB, per connection
// at once. What a refused row costs the host must stay near the result
// limit.
func TestSession_wideRowMemory(t *testing.T) {
	for _, tc := range []struct{ name, sql string }{
		// One value, copied 60 times by the driver into Go.
		{"shared", "WITH x(b) AS MATERIALIZED (SELECT zeroblob(4000000) || 'x') SELECT " + strings.Repeat("b, ", 59) + "b FROM x"},
		// 60 values SQLite builds before the row is whole.
		{"distinct", "SELECT " + strings.TrimSuffix(strings.Repeat("zeroblob(4000000) || random(), ", 60), ", ")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, storage.Options{MaxMemoryBytes: abi.MaxDBMemoryBytes})
			s := session(t, db)
			before := rssBytes(t)
			var err error
			peak := peakDuring(t, time.Millisecond, rssBytes, func() { _, err = s.Query(context.Background(), tc.sql, nil) })
			if !errors.Is(err, storage.ErrLimit) {
				t.Fatalf("60 columns of 4 MB: %v, want ErrLimit", err)
			}
			if grew := peak - before; grew > 128<<20 {
				t.Fatalf("a row of 60 columns of 4 MB, refused for a result limit of 4 MiB, grew the process by %d MiB", grew>>20)
			}
		})
	}
}
