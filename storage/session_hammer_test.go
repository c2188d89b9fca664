package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage"
)

func TestSession_ConcurrentWriters(t *testing.T) {
	const goroutines, inserts = 8, 50
	db := openDB(t, storage.Options{BusyTimeout: time.Minute})
	mustExec(t, session(t, db), "CREATE TABLE t(g INTEGER, i INTEGER)")
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 2*goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range inserts {
				if err := insertTx(ctx, db, int64(g), int64(i)); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() { // a reader alongside each writer
			s := db.NewSession()
			defer s.Close()
			for range inserts {
				if _, err := s.Query(ctx, "SELECT count(*) FROM t", nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := count(t, db, "t"); got != goroutines*inserts {
		t.Errorf("count = %d, want %d", got, goroutines*inserts)
	}
}

// insertTx inserts one row in its own write transaction.
func insertTx(ctx context.Context, db *storage.DB, g, i int64) error {
	s := db.NewSession()
	defer s.Close()
	if err := s.Begin(ctx, true); err != nil {
		return err
	}
	if _, err := s.Exec(ctx, "INSERT INTO t VALUES (?, ?)", []any{g, i}); err != nil {
		return err
	}
	return s.Commit(ctx)
}

func BenchmarkSession_InsertTx(b *testing.B) {
	db := openDB(b, storage.Options{BusyTimeout: time.Minute})
	mustExec(b, session(b, db), "CREATE TABLE t(g INTEGER, i INTEGER)")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := int64(0); pb.Next(); i++ {
			if err := insertTx(ctx, db, 0, i); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestBenchmarkSession_InsertTx(t *testing.T) {
	r := testing.Benchmark(BenchmarkSession_InsertTx)
	if r.N == 0 {
		t.Fatal("benchmark did not run")
	}
}
