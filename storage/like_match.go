package storage

import "strings"

// Matching a compiled LIKE or GLOB pattern (like.go) against a value,
// within its statement's deadline.

// likeClock bounds the work of one match: every likeCheckEvery steps (a
// character read or compared; a try at one place counts the bytes it
// read when they are more) it asks whether the statement is past its
// deadline, and once it is, the match ends.
type likeClock struct {
	stopped func() bool // nil: never
	steps   int
	done    bool
}

// likeCheckEvery is how many steps a match takes between two looks at
// its deadline: some tens of microseconds.
const likeCheckEvery = 1 << 14

// spend counts n steps and reports whether the match may go on.
func (k *likeClock) spend(n int) bool {
	k.steps += n
	if k.steps >= likeCheckEvery && !k.done {
		k.steps = 0
		k.done = k.stopped != nil && k.stopped()
	}
	return !k.done
}

// match reports whether value s (up to its first NUL) matches p; ok is
// false when the clock stopped it first.
func (p *likePattern) match(s string, clock *likeClock) (matched, ok bool) {
	if clock.stopped != nil && clock.stopped() {
		return false, false
	}
	if p.never {
		return false, true
	}
	matched = p.matchSegs(s, clock)
	return matched, !clock.done
}

// matchSegs is match, whatever the clock says at its end.
func (p *likePattern) matchSegs(s string, clock *likeClock) bool {
	first, last := p.segs[0], p.segs[len(p.segs)-1]
	pos, found := p.matchAt(first, s, 0, clock)
	if !found {
		return false
	}
	if len(p.segs) == 1 {
		return pos == len(s)
	}
	for k := 1; k < len(p.segs)-1; k++ {
		if pos, found = p.find(k, s, pos, clock); !found {
			return false
		}
	}
	if len(last) == 0 {
		return true
	}
	// The last segment takes the value's last len(last) characters.
	n := 0
	for i := pos; i < len(s); n++ {
		if _, i = sqlChar(s, i); !clock.spend(1) {
			return false
		}
	}
	if n < len(last) {
		return false
	}
	for skip := n - len(last); skip > 0; skip-- {
		_, pos = sqlChar(s, pos)
	}
	end, found := p.matchAt(last, s, pos, clock)
	return found && end == len(s)
}

// matchAt matches seg at s[i:], and returns the index after it. It spends
// a step for each element compared or byte read, whichever are more: one
// character may be a lead byte and megabytes of continuation bytes, which
// find reads again at each place it tries before it.
func (p *likePattern) matchAt(seg []likeElem, s string, i int, clock *likeClock) (int, bool) {
	from := i
	for k, e := range seg {
		if i >= len(s) {
			clock.spend(max(k, i-from))
			return 0, false
		}
		var c uint32
		if c, i = sqlChar(s, i); !p.accepts(e, c) {
			clock.spend(max(k+1, i-from))
			return 0, false
		}
	}
	clock.spend(max(len(seg), i-from))
	return i, true
}

// accepts reports whether element e matches character c.
func (p *likePattern) accepts(e likeElem, c uint32) bool {
	switch {
	case e.any:
		return true
	case e.class != nil:
		return e.class.has(c)
	case p.fold:
		return foldASCII(c) == e.c
	}
	return c == e.c
}

// find finds segment k of p at its leftmost place in s at or after i,
// and returns the index after it; false when it is nowhere, or the clock
// stopped.
func (p *likePattern) find(k int, s string, i int, clock *likeClock) (int, bool) {
	seg := p.segs[k]
	if next := p.next[k]; next != nil {
		return p.findLiteral(seg, next, s, i, clock)
	}
	for i < len(s) {
		if i = p.skipTo(seg[0], s, i); i >= len(s) {
			break
		}
		if end, ok := p.matchAt(seg, s, i, clock); ok {
			return end, true
		}
		if !clock.spend(1) {
			return 0, false
		}
		_, i = sqlChar(s, i)
	}
	return 0, false
}

// findLiteral is find for a segment of literal characters only, whose
// Knuth-Morris-Pratt table is next: one pass over s.
func (p *likePattern) findLiteral(seg []likeElem, next []int32, s string, i int, clock *likeClock) (int, bool) {
	n := int32(0)
	for i < len(s) {
		if n == 0 {
			if i = p.skipTo(seg[0], s, i); i >= len(s) {
				break
			}
		}
		var c uint32
		c, i = sqlChar(s, i)
		if p.fold {
			c = foldASCII(c)
		}
		for n > 0 && seg[n].c != c {
			n = next[n-1]
		}
		if seg[n].c == c {
			n++
		}
		if int(n) == len(seg) {
			return i, true
		}
		if !clock.spend(1) {
			return 0, false
		}
	}
	return 0, false
}

// skipTo returns the first index of s at or after i where a character
// that e may match can start, or len(s): when e is an ASCII literal, the
// next byte that is it (in either case when p folds), since an ASCII
// byte is always a character of its own; else i.
func (p *likePattern) skipTo(e likeElem, s string, i int) int {
	if e.any || e.class != nil || e.c >= 0x80 {
		return i
	}
	c := byte(e.c)
	if !p.fold || c < 'a' || c > 'z' {
		if j := strings.IndexByte(s[i:], c); j >= 0 {
			return i + j
		}
		return len(s)
	}
	up := c - ('a' - 'A')
	for ; i < len(s); i++ {
		if s[i] == c || s[i] == up {
			return i
		}
	}
	return i
}
