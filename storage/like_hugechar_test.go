package storage

import (
	"strings"
	"testing"
	"time"
)

// TestLike_longCharacterChecksDeadline: a character as SQLite reads it is
// a byte at or over 0xc0 and every continuation byte after it, so one
// character of a 4 MiB value can be 4 MiB long. A segment with a
// wildcard is tried at each place of the value, and each try before
// such a character reads it whole: 170 'a' and one character of the
// rest of 4 MiB, under '*' and 172 '?', read it 171 times (some 700 MB)
// in under 16,384 steps, so the match never looked at its deadline: a
// statement with a deadline of 200 ms ran 0.69 to 0.80 s on an idle
// 2-core machine, 2.06 s on a busy one. The clock here says the deadline
// has passed from its first look after the match's start; the match must
// see it and stop, not run to its end.
func TestLike_longCharacterChecksDeadline(t *testing.T) {
	const m = 170
	value := strings.Repeat("a", m) + "\xc0" + strings.Repeat("\x80", 4<<20-m-1)
	for _, c := range []struct {
		pat   string
		rules likeRules
	}{
		{"*" + strings.Repeat("?", m+2) + "*", globRulesOf},
		{"%" + strings.Repeat("_", m+2) + "%", likeRulesOf},
	} {
		looks := 0
		clock := &likeClock{stopped: func() bool { looks++; return looks > 1 }}
		start := time.Now()
		_, ok := compileLike(c.pat, c.rules).match(value, clock)
		took := time.Since(start)
		if ok {
			t.Errorf("%.3s...: the match ran %v to its end, looking at its deadline %d time(s) (at its start only); want it stopped at its first look after", c.pat, took.Round(time.Millisecond), looks)
		}
	}
}
