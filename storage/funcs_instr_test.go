package storage

import (
	"context"
	"testing"
	"time"
)

// TestFuncs_instrContinuationNeedle: instr stays linear when the needle
// starts with a UTF-8 continuation byte. Such a needle matches at every
// continuation byte of a TEXT haystack, where SQLite does not count a
// match, and instrFunc compared the whole needle again after each of
// them: a haystack of one lead byte and 1,000,000 continuation bytes and
// a needle of 200,000 took seconds in one function call, which no
// deadline interrupts (the product of their lengths, as before 120e38a).
func TestFuncs_instrContinuationNeedle(t *testing.T) {
	s := funcsSession(t)
	const deadline = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	rows, err := s.Query(ctx, "SELECT instr(x'c3' || replace(printf('%.*c', 1000000, 'x'), 'x', x'80'), replace(printf('%.*c', 200000, 'x'), 'x', x'80'))", nil)
	if took := time.Since(start); took > deadline+time.Second {
		t.Fatalf("an instr with a deadline of %v took %v", deadline, took.Round(time.Millisecond))
	}
	if err == nil && rows.Values[0][0] != int64(0) {
		t.Fatalf("instr = %v, want 0 (SQLite counts no match inside a character)", rows.Values[0][0])
	}
}
