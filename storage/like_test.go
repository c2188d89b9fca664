package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// TestSession_deadlineLikeGlob: SQLite's LIKE and GLOB compare a pattern
// of literal characters between wildcards at every offset of the string
// that matches its first character, so one call costs the product of the
// two lengths (a pattern may be 50,000 bytes, SQLITE_LIMIT_LIKE_PATTERN_LENGTH;
// a value 4 MiB), allocates nothing, and SQLite never interrupts it:
// '%' followed by 20,000 'a' and a 'b', over 1,000,000 'a', ran 53 s (LIKE)
// and 65 s (GLOB) under a 200 ms deadline on a 2-core VM. Here 4,000 'a'
// (some 10 s each). A call must end near its deadline: Warden's matcher
// finds literal characters in one pass, and the segments with a
// one-character wildcard or a class, which it may still compare at every
// place, end at the deadline.
func TestSession_deadlineLikeGlob(t *testing.T) {
	db := openDB(t, storage.Options{MaxMemoryBytes: abi.MaxDBMemoryBytes})
	s := session(t, db)
	const deadline = 200 * time.Millisecond
	for _, c := range []struct {
		q       string
		stopped bool // the statement ends at its deadline, not with an answer
	}{
		{"SELECT printf('%.*c', 1000000, 'a') LIKE ('%' || printf('%.*c', 4000, 'a') || 'b%')", false},
		{"SELECT printf('%.*c', 1000000, 'a') GLOB ('*' || printf('%.*c', 4000, 'a') || 'b*')", false},
		{"SELECT printf('%.*c', 1000000, 'a') LIKE ('%_' || printf('%.*c', 4000, 'a') || 'b%')", true},
		{"SELECT printf('%.*c', 1000000, 'a') GLOB ('*[a]' || printf('%.*c', 4000, 'a') || 'b*')", true},
		{"SELECT printf('%.*c', 1000000, 'a') GLOB ('*?' || replace(printf('%.*c', 4000, 'x'), 'x', '[a]') || 'b*')", true},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		start := time.Now()
		rows, err := s.Query(ctx, c.q, nil)
		cancel()
		if took := time.Since(start); took > deadline+4*time.Second {
			t.Errorf("%s: a statement with a deadline of %v ran %v (%v)", c.q[:60], deadline, took.Round(time.Millisecond), err)
		}
		switch {
		case c.stopped && !errors.Is(err, context.DeadlineExceeded):
			t.Errorf("%s: got %v, want the deadline", c.q[:60], err)
		case !c.stopped && err != nil:
			t.Errorf("%s: %v", c.q[:60], err)
		case !c.stopped && fmt.Sprint(rows.Values) != "[[0]]":
			t.Errorf("%s: got %v, want no match", c.q[:60], rows.Values)
		}
	}
}
