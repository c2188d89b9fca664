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
	return queryWithin(t, s, q, oneCallDeadline, oneCallDeadline+4*time.Second)
}

// queryWithin runs q on s with deadline d, fails the test if it runs
// longer than limit, and returns the statement's error.
func queryWithin(t *testing.T, s *storage.Session, q string, d, limit time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	_, err := s.Query(ctx, q, nil)
	if took := time.Since(start); took > limit {
		t.Fatalf("a statement with a deadline of %v ran %v (%v)", d, took.Round(time.Millisecond), err)
	}
	return err
}

// refusalDeadline is the deadline of the statements that Warden refuses
// for their size before SQLite's call starts: long enough for the
// statement to build its arguments under the race detector on a busy
// machine, shorter than SQLite's own call would run.
const refusalDeadline = 5 * time.Second

// queryRefused runs q on s with a deadline of refusalDeadline and returns
// its error; it fails the test if the statement ran to the deadline.
func queryRefused(t *testing.T, s *storage.Session, q string) error {
	t.Helper()
	return queryWithin(t, s, q, refusalDeadline, refusalDeadline-time.Millisecond)
}

// ftsRowOfA creates the fts5 table f(x) on s with one row of n tokens
// 'a', so that 'a' matches n times in it.
func ftsRowOfA(t *testing.T, s *storage.Session, n int) {
	t.Helper()
	mustExec(t, s, "CREATE VIRTUAL TABLE f USING fts5(x)")
	mustExec(t, s, `INSERT INTO f(x)
		WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c LIMIT ?)
		SELECT group_concat('a', ' ') FROM c`, int64(n))
}
