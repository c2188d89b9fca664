package storage

import (
	"slices"
	"strings"
	"unsafe"
)

// SQLite's LIKE and GLOB compare the literal characters after a wildcard
// at every place of the value where the first of them matches, so one
// call costs the product of the pattern's length (up to 50,000 bytes,
// SQLITE_LIMIT_LIKE_PATTERN_LENGTH) and the value's (4 MiB); it allocates
// nothing, and SQLite never interrupts a function call: '%' then 20,000
// 'a' and a 'b', over 1,000,000 'a', ran 53 s (LIKE) and 65 s (GLOB)
// under a 200 ms deadline. Warden replaces both, on every connection (see
// like_sqlite.go), with this matcher: the same answer for every input
// (TestLike_matchesSQLite compares them with SQLite's own), in time
// linear in the value for the common patterns, and never past its
// statement's deadline for the others.
//
// The answer is the usual one for wildcard patterns once both strings
// are split into characters as SQLite splits them (sqlChar): the
// match-all wildcard takes any run of characters, the match-one wildcard
// and a GLOB class one character, any other character itself, or for
// LIKE, an ASCII letter of either case. A pattern is compiled to segments
// of one-character elements between match-all wildcards; the first
// segment must match at the value's start, the last at its end, and each
// one between at its leftmost place after the one before (taking the
// leftmost place never loses a match the others could make).

// likeRules are the wildcards of one LIKE or GLOB call, after its ESCAPE
// (SQLite's compareInfo with the escape character).
type likeRules struct {
	all, one uint32 // the match-all and match-one wildcards; 0 when ESCAPE took it
	sets     bool   // '[' opens a class (GLOB)
	fold     bool   // ASCII letters match either case (LIKE)
	esc      uint32 // LIKE's ESCAPE character, or 0
}

var (
	likeRulesOf = likeRules{all: '%', one: '_', fold: true}
	globRulesOf = likeRules{all: '*', one: '?', sets: true}
)

// sqlChar reads the character of s at i (i < len(s)) as SQLite does
// (sqlite3Utf8Read), and returns it with the index after it: a byte under
// 0xc0 alone, or a byte at or over 0xc0 with every continuation byte
// after it, however many, its value wrapping at 32 bits; a multi-byte
// value under 0x80 or a UTF-16 surrogate reads as U+FFFD; any other
// value stays, U+FFFE and values over U+10FFFF included.
func sqlChar(s string, i int) (uint32, int) {
	if b := s[i]; b < 0xc0 {
		return uint32(b), i + 1
	}
	return sqlMultiChar(s, i)
}

// sqlMultiChar is sqlChar for a byte at or over 0xc0.
func sqlMultiChar(s string, i int) (uint32, int) {
	b := s[i]
	i++
	var c uint32
	switch {
	case b < 0xe0:
		c = uint32(b & 0x1f)
	case b < 0xf0:
		c = uint32(b & 0x0f)
	case b < 0xf8:
		c = uint32(b & 0x07)
	case b < 0xfc:
		c = uint32(b & 0x03)
	case b < 0xfe:
		c = uint32(b & 0x01)
	}
	for i < len(s) && isContinuation(s[i]) {
		c = c<<6 | uint32(s[i]&0x3f)
		i++
	}
	if c < 0x80 || c&0xfffff800 == 0xd800 {
		c = 0xfffd
	}
	return c, i
}

// sqlCharAt is sqlChar, with 0 at the end of s.
func sqlCharAt(s string, i int) (uint32, int) {
	if i >= len(s) {
		return 0, i
	}
	return sqlChar(s, i)
}

// cString is s as SQLite's text functions see it: up to its first NUL.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// foldASCII is c with an ASCII capital made small.
func foldASCII(c uint32) uint32 {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// likeElem is one element of a compiled pattern; each matches exactly
// one character.
type likeElem struct {
	any   bool     // the match-one wildcard
	c     uint32   // a literal character, folded when the rules fold (set == nil, !any)
	class *likeSet // a GLOB class
}

// likeSet is a GLOB class: sorted, disjoint ranges of characters, and
// whether it matches the characters outside them ('[^...]').
type likeSet struct {
	ranges [][2]uint32
	invert bool
}

// has reports whether the class matches c.
func (s *likeSet) has(c uint32) bool {
	_, in := slices.BinarySearchFunc(s.ranges, c, func(r [2]uint32, c uint32) int {
		switch {
		case r[1] < c:
			return -1
		case r[0] > c:
			return 1
		}
		return 0
	})
	return in != s.invert
}

// likePattern is a compiled LIKE or GLOB pattern.
type likePattern struct {
	segs  [][]likeElem // between match-all wildcards; never empty
	fold  bool
	never bool // the pattern matches nothing: an ESCAPE at its end, a class never closed
	// next[k] is, for the all-literal segment k between others, the
	// Knuth-Morris-Pratt table of its characters (nil for the others).
	next [][]int32
	// bytes is about what the compiled pattern holds in memory.
	bytes int64
}

// compileLike compiles pattern pat (up to its first NUL) under rules r.
func compileLike(pat string, r likeRules) *likePattern {
	p := &likePattern{fold: r.fold, segs: [][]likeElem{nil}}
	last := func() *[]likeElem { return &p.segs[len(p.segs)-1] }
	for i := 0; i < len(pat); {
		c, j := sqlChar(pat, i)
		switch {
		case r.all != 0 && c == r.all:
			if len(p.segs) == 1 || len(*last()) > 0 {
				p.segs = append(p.segs, nil)
			}
		case r.one != 0 && c == r.one:
			*last() = append(*last(), likeElem{any: true})
		case r.sets && c == '[':
			set, k, ok := parseClass(pat, j)
			if !ok {
				p.never = true
				return p
			}
			*last() = append(*last(), likeElem{class: set})
			j = k
		case r.esc != 0 && c == r.esc:
			if j >= len(pat) {
				p.never = true
				return p
			}
			c, j = sqlChar(pat, j)
			fallthrough
		default:
			if r.fold {
				c = foldASCII(c)
			}
			*last() = append(*last(), likeElem{c: c})
		}
		i = j
	}
	p.next = make([][]int32, len(p.segs))
	for k := 1; k < len(p.segs)-1; k++ {
		p.next[k] = kmpTable(p.segs[k])
	}
	p.bytes = int64(unsafe.Sizeof(*p))
	for k, seg := range p.segs {
		p.bytes += int64(cap(seg))*int64(unsafe.Sizeof(likeElem{})) + int64(cap(p.next[k]))*4 + 48
		for _, e := range seg {
			if e.class != nil {
				p.bytes += int64(cap(e.class.ranges))*8 + int64(unsafe.Sizeof(*e.class))
			}
		}
	}
	return p
}

// parseClass reads a GLOB class whose '[' ends before pat[i], as SQLite
// reads one: '^' first inverts it, a ']' first (after any '^') is a
// member, "a-z" is a range when a single character is before the '-' and
// neither ']' nor the end after it, any other '-' is a member, and the
// next ']' ends it. It returns the class and the index after its ']', or
// false when no ']' ends it (it then matches nothing, as in SQLite).
func parseClass(pat string, i int) (*likeSet, int, bool) {
	s := &likeSet{}
	c, i := sqlCharAt(pat, i)
	if c == '^' {
		s.invert = true
		c, i = sqlCharAt(pat, i)
	}
	if c == ']' {
		s.ranges = append(s.ranges, [2]uint32{']', ']'})
		c, i = sqlCharAt(pat, i)
	}
	var prior uint32 // the single character before, if a range may start at it
	for c != 0 && c != ']' {
		if c == '-' && prior != 0 && i < len(pat) && pat[i] != ']' {
			c, i = sqlChar(pat, i)
			if prior <= c {
				s.ranges = append(s.ranges, [2]uint32{prior, c})
			}
			prior = 0
		} else {
			s.ranges = append(s.ranges, [2]uint32{c, c})
			prior = c
		}
		c, i = sqlCharAt(pat, i)
	}
	if c == 0 {
		return nil, 0, false
	}
	slices.SortFunc(s.ranges, func(a, b [2]uint32) int {
		if a[0] != b[0] {
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		return 0
	})
	merged := s.ranges[:0]
	for _, r := range s.ranges {
		if n := len(merged); n > 0 && uint64(r[0]) <= uint64(merged[n-1][1])+1 {
			merged[n-1][1] = max(merged[n-1][1], r[1])
			continue
		}
		merged = append(merged, r)
	}
	s.ranges = merged
	return s, i, true
}

// kmpTable returns the Knuth-Morris-Pratt table of seg when every element
// is a literal character, or nil: next[k] is the length of the longest
// proper prefix of seg[:k+1] that is also its suffix.
func kmpTable(seg []likeElem) []int32 {
	for _, e := range seg {
		if e.any || e.class != nil {
			return nil
		}
	}
	next := make([]int32, len(seg))
	for k, n := 1, int32(0); k < len(seg); k++ {
		for n > 0 && seg[k].c != seg[n].c {
			n = next[n-1]
		}
		if seg[k].c == seg[n].c {
			n++
		}
		next[k] = n
	}
	return next
}

// likeCache keeps a connection's last compiled patterns, so that a scan
// with one pattern compiles it once: SQLite calls LIKE once per row. What
// an entry holds (its pattern and compiled form, up to some megabytes for
// the longest pattern) is charged to the connection's database memory
// budget (Options.MaxMemoryBytes, as SQLite's own allocations are), and
// given back when the entry is replaced or the connection closes; a
// pattern the budget has no room for is compiled for its call only.
type likeCache struct {
	entries [4]likeCached
	next    int     // the entry to replace
	owner   uintptr // the budget charged (a *dbHeap)
}

// likeCached is one compiled pattern of a likeCache.
type likeCached struct {
	pat   string
	rules likeRules
	p     *likePattern
	cost  int64 // charged to the budget
}

// compile returns pattern pat compiled under rules r.
func (c *likeCache) compile(pat string, r likeRules) *likePattern {
	if c == nil {
		return compileLike(pat, r)
	}
	for i := range c.entries {
		if e := &c.entries[i]; e.p != nil && e.rules == r && e.pat == pat {
			return e.p
		}
	}
	p := compileLike(pat, r)
	e := &c.entries[c.next]
	release(c.owner, e.cost)
	*e = likeCached{}
	if cost := int64(len(pat)) + p.bytes; charge(c.owner, cost) {
		*e = likeCached{pat: strings.Clone(pat), rules: r, p: p, cost: cost}
		c.next = (c.next + 1) % len(c.entries)
	}
	return p
}

// drop gives back what the cache holds: its connection is closing.
func (c *likeCache) drop() {
	for i := range c.entries {
		release(c.owner, c.entries[i].cost)
		c.entries[i] = likeCached{}
	}
}
