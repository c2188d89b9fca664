package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// TestSession_deadlineLikeGlob: SQLite's LIKE and GLOB compare a pattern
// of literal characters between wildcards at every offset of the string
// that matches its first character, so one call costs the product of the
// two lengths (a pattern may be 50,000 bytes, SQLITE_LIMIT_LIKE_PATTERN_LENGTH;
// a value 4 MiB), allocates nothing, and SQLite never interrupts it:
// '%' followed by 20,000 'a' and a 'b', over 1,000,000 'a', ran 53 s (LIKE)
// and 65 s (GLOB) under a 200 ms deadline on a 2-core VM. A call must end
// near its deadline: Warden's matcher finds literal characters in one
// pass (well within a deadline of some seconds, which leaves the race
// detector room), and the segments with a one-character wildcard or a
// class, which it may still compare at every place, end at the deadline
// (4,000 'a' there: some 10 s each with SQLite's own).
func TestSession_deadlineLikeGlob(t *testing.T) {
	db := openDB(t, storage.Options{MaxMemoryBytes: abi.MaxDBMemoryBytes})
	s := session(t, db)
	for _, c := range []struct {
		q       string
		stopped bool // the statement ends at its deadline, not with an answer
	}{
		// One pass each: an answer well within the refusal deadline
		// (20,000 'a': 53 s and 65 s with SQLite's own).
		{"SELECT printf('%.*c', 1000000, 'a') LIKE ('%' || printf('%.*c', 20000, 'a') || 'b%')", false},
		{"SELECT printf('%.*c', 1000000, 'a') GLOB ('*' || printf('%.*c', 20000, 'a') || 'b*')", false},
		// Compared at every place: stopped at the deadline.
		{"SELECT printf('%.*c', 1000000, 'a') LIKE ('%_' || printf('%.*c', 4000, 'a') || 'b%')", true},
		{"SELECT printf('%.*c', 1000000, 'a') GLOB ('*[a]' || printf('%.*c', 4000, 'a') || 'b*')", true},
		{"SELECT printf('%.*c', 1000000, 'a') GLOB ('*?' || replace(printf('%.*c', 4000, 'x'), 'x', '[a]') || 'b*')", true},
	} {
		if !c.stopped {
			ctx, cancel := context.WithTimeout(context.Background(), refusalDeadline)
			rows, err := s.Query(ctx, c.q, nil)
			cancel()
			if err != nil || fmt.Sprint(rows.Values) != "[[0]]" {
				t.Errorf("%s: %v, %v; want no match within %v", c.q[:60], rows, err, refusalDeadline)
			}
			continue
		}
		if err := queryEndsNearDeadline(t, s, c.q); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: got %v, want the deadline", c.q[:60], err)
		}
	}
}
