package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage"
)

// oneCallDeadline is the deadline of the statements of the one-call
// tests (TestSession_deadlineJSONPatch and its kin): one call of a
// built-in function that SQLite cannot interrupt.
const oneCallDeadline = 200 * time.Millisecond

// queryEndsNearDeadline runs q on s with a deadline of oneCallDeadline
// and fails the test if it runs more than 4 s past it (slack for a busy
// 2-core machine), and returns the statement's error.
func queryEndsNearDeadline(t *testing.T, s *storage.Session, q string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), oneCallDeadline)
	defer cancel()
	start := time.Now()
	_, err := s.Query(ctx, q, nil)
	if took := time.Since(start); took > oneCallDeadline+4*time.Second {
		t.Fatalf("a statement with a deadline of %v ran %v (%v)", oneCallDeadline, took.Round(time.Millisecond), err)
	}
	return err
}
