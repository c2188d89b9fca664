package storage

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"modernc.org/libc"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/warden-rpc/warden/abi"
)

// SQLite looks at the interrupt between the steps of a statement's
// program, never inside one function call, and some of its built-in
// functions take time in the product of their arguments' lengths: instr
// and replace compare the needle at every offset of the haystack, trim,
// ltrim and rtrim compare every character with every character of the
// set. Within the 4 MiB value limit one such call runs for minutes to
// hours past its call's deadline, holding a core. So Warden replaces them,
// on every connection, with functions that give the same results in time
// linear in their arguments (up to a logarithm). TestFuncs_matchSQLite
// checks them against ports of SQLite's own loops.
func init() {
	for _, f := range []struct {
		name  string
		nArgs int32
		fn    func([]driver.Value) (driver.Value, error)
	}{
		{"instr", 2, instrFunc},
		{"replace", 3, replaceFunc},
		{"trim", -1, trimFunc("trim", true, true)},
		{"ltrim", -1, trimFunc("ltrim", true, false)},
		{"rtrim", -1, trimFunc("rtrim", false, true)},
	} {
		fn := f.fn
		sqlite.MustRegisterFunction(f.name, &sqlite.FunctionImpl{
			NArgs:         f.nArgs,
			Deterministic: true,
			VolatileArgs:  true, // TEXT arguments keep their NUL bytes; none is retained
			Scalar: func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				return fn(args)
			},
		})
	}
}

// sqlText returns v as SQLite's sqlite3_value_text sees it, and whether
// it is not NULL.
func sqlText(v driver.Value) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return floatText(x), true
	}
	return "", false
}

// floatText renders f as SQLite renders a REAL as TEXT
// (vdbeMemRenderNum), with SQLite's own printf and its format, "%!.17g":
// its digits are not always Go's.
func floatText(f float64) string {
	tls := libc.NewTLS()
	defer tls.Close()
	format, err := libc.CString("%!.17g")
	if err != nil {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	defer libc.Xfree(tls, format)
	va := libc.NewVaList(f)
	defer libc.Xfree(tls, va)
	p := sqlite3.Xsqlite3_mprintf(tls, format, va)
	defer sqlite3.Xsqlite3_free(tls, p)
	return libc.GoString(p)
}

// instrFunc is SQLite's instr(X, Y): the 1-based position of the first Y
// in X, in bytes when both are BLOBs, else in characters, counting only
// matches at the start of a character as SQLite does; 0 when there is
// none, NULL when either is NULL.
func instrFunc(args []driver.Value) (driver.Value, error) {
	if args[0] == nil || args[1] == nil {
		return nil, nil
	}
	hb, hBlob := args[0].([]byte)
	nb, nBlob := args[1].([]byte)
	if hBlob && nBlob {
		return int64(strings.Index(string(hb), string(nb)) + 1), nil
	}
	hay, _ := sqlText(args[0])
	needle, _ := sqlText(args[1])
	if len(needle) == 0 {
		return int64(1), nil
	}
	// SQLite tries the start of hay and each byte after it that is not a
	// continuation byte. A needle that starts with a continuation byte can
	// only match at the start; any other's matches are all at such bytes,
	// so the first is the answer. (Skipping matches at continuation bytes
	// one by one compared the whole needle again after each: the product
	// of the lengths.)
	if isContinuation(needle[0]) {
		if strings.HasPrefix(hay, needle) {
			return int64(1), nil
		}
		return int64(0), nil
	}
	at := strings.Index(hay, needle)
	if at < 0 {
		return int64(0), nil
	}
	n := int64(1)
	for j := 1; j <= at; j++ { // SQLite steps character by character
		if !isContinuation(hay[j]) {
			n++
		}
	}
	return n, nil
}

// isContinuation reports whether c continues a UTF-8 character.
func isContinuation(c byte) bool { return c&0xc0 == 0x80 }

// errFuncTooBig is the failure of a function whose result would be over
// abi.MaxValueBytes, before it is built; classify makes it ErrLimit, as
// SQLite's own SQLITE_TOOBIG (a Go function can only fail with
// SQLITE_ERROR).
var errFuncTooBig = errors.New("warden: the result of a function is over the value limit")

// replaceFunc is SQLite's replace(X, Y, Z): X with every Y replaced by Z,
// left to right, as TEXT; X itself when Y is empty or starts with a NUL
// byte; NULL when any is NULL.
func replaceFunc(args []driver.Value) (driver.Value, error) {
	s, ok := sqlText(args[0])
	if !ok {
		return nil, nil
	}
	pat, ok := sqlText(args[1])
	if !ok {
		return nil, nil
	}
	if pat == "" || pat[0] == 0 {
		return s, nil
	}
	rep, ok := sqlText(args[2])
	if !ok {
		return nil, nil
	}
	if len(rep) > len(pat) {
		if n := strings.Count(s, pat); int64(len(s))+int64(n)*int64(len(rep)-len(pat)) > abi.MaxValueBytes {
			return nil, errFuncTooBig
		}
	}
	return strings.ReplaceAll(s, pat, rep), nil
}

// trimFunc returns SQLite's trim, ltrim or rtrim (name): X without the
// characters of Y (a space when Y is absent) at its start (left), its end
// (right) or both, as TEXT; NULL when X or Y is NULL.
//
// SQLite splits Y into characters (a byte at or over 0xc0 with the
// continuation bytes after it, any other byte alone, up to the first NUL)
// and, at each step, removes the first of them in Y's order that matches
// there. The characters are kept sorted, so that the first match at a
// place costs a walk of the continuation bytes there, each narrowing the
// candidates by binary search.
func trimFunc(name string, left, right bool) func([]driver.Value) (driver.Value, error) {
	return func(args []driver.Value) (driver.Value, error) {
		if len(args) != 1 && len(args) != 2 {
			return nil, fmt.Errorf("wrong number of arguments to function %s()", name)
		}
		in, ok := sqlText(args[0])
		if !ok {
			return nil, nil
		}
		set := " "
		if len(args) == 2 {
			if set, ok = sqlText(args[1]); !ok {
				return nil, nil
			}
		}
		cs := newCharSet(set)
		if cs.empty() {
			return in, nil
		}
		if left {
			for len(in) > 0 {
				n := cs.matchAt(in)
				if n == 0 {
					break
				}
				in = in[n:]
			}
		}
		if right {
			in = cs.trimRight(in)
		}
		return in, nil
	}
}

// charSet is a trim set: its characters with the index of their first
// appearance, sorted by their bytes.
type charSet struct {
	single [256]int32 // 1 + the index of a one-byte character, 0 if absent
	multi  []setChar  // the longer characters, sorted
}

// setChar is one character of a trim set longer than one byte.
type setChar struct {
	s   string
	idx int32
}

// newCharSet splits set into characters as SQLite's trimFunc does.
func newCharSet(set string) *charSet {
	cs := &charSet{}
	if i := strings.IndexByte(set, 0); i >= 0 {
		set = set[:i]
	}
	seen := map[string]bool{}
	for i, idx := 0, int32(0); i < len(set); idx++ {
		j := i + 1
		if set[i] >= 0xc0 {
			for j < len(set) && isContinuation(set[j]) {
				j++
			}
		}
		switch c := set[i:j]; {
		case len(c) == 1:
			if cs.single[c[0]] == 0 {
				cs.single[c[0]] = idx + 1
			}
		case !seen[c]:
			seen[c] = true
			cs.multi = append(cs.multi, setChar{c, idx})
		}
		i = j
	}
	slices.SortFunc(cs.multi, func(a, b setChar) int { return strings.Compare(a.s, b.s) })
	return cs
}

// empty reports whether the set has no character.
func (cs *charSet) empty() bool {
	if len(cs.multi) > 0 {
		return false
	}
	for _, v := range cs.single {
		if v != 0 {
			return false
		}
	}
	return true
}

// matches calls fn(n, idx) for each character of the set longer than one
// byte that is a prefix of s, shortest first, walking s no further than a
// lead byte and its continuation bytes.
func (cs *charSet) matches(s string, fn func(n int, idx int32)) {
	if len(cs.multi) == 0 || len(s) < 2 || s[0] < 0xc0 {
		return
	}
	lo, hi := 0, len(cs.multi)
	for d := 0; d < len(s) && lo < hi; d++ {
		if d > 0 && !isContinuation(s[d]) {
			return
		}
		c := s[d]
		// Narrow [lo, hi) to the characters whose byte d is c: their
		// first d bytes are s[:d] already.
		lo += sortSearch(hi-lo, func(k int) bool { m := cs.multi[lo+k].s; return len(m) > d && m[d] >= c })
		hi = lo + sortSearch(hi-lo, func(k int) bool { m := cs.multi[lo+k].s; return len(m) > d && m[d] > c })
		if lo < hi && len(cs.multi[lo].s) == d+1 && d > 0 {
			fn(d+1, cs.multi[lo].idx)
		}
	}
}

// sortSearch is sort.Search over [0, n).
func sortSearch(n int, f func(int) bool) int {
	i, j := 0, n
	for i < j {
		h := int(uint(i+j) >> 1)
		if !f(h) {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}

// matchAt returns the length of the first character of the set, in the
// set's order, that s starts with; 0 if none.
func (cs *charSet) matchAt(s string) int {
	best, n := int32(math.MaxInt32), 0
	if v := cs.single[s[0]]; v != 0 {
		best, n = v-1, 1
	}
	cs.matches(s, func(l int, idx int32) {
		if idx < best {
			best, n = idx, l
		}
	})
	return n
}

// trimRight removes characters of the set from the end of s as SQLite's
// rtrim does. At the end of s, a character of the set longer than one
// byte can only be the lead byte before the trailing continuation bytes
// with all of them; as the end moves left within those bytes, it is a
// shorter prefix from the same lead byte. So the lengths of the set's
// characters that start at that lead byte are found once, by one walk.
func (cs *charSet) trimRight(s string) string {
	for len(s) > 0 {
		run := 0
		for run < len(s) && isContinuation(s[len(s)-1-run]) {
			run++
		}
		lead := len(s) - 1 - run
		multi := map[int]int32{} // the length from lead -> the index
		if run > 0 && lead >= 0 {
			cs.matches(s[lead:], func(l int, idx int32) { multi[l] = idx })
		}
		moved := false
		for len(s) > 0 {
			best, n := int32(math.MaxInt32), 0
			if v := cs.single[s[len(s)-1]]; v != 0 {
				best, n = v-1, 1
			}
			if lead >= 0 && len(s)-lead >= 2 {
				if idx, ok := multi[len(s)-lead]; ok && idx < best {
					best, n = idx, len(s)-lead
				}
			}
			if n == 0 {
				return s
			}
			s = s[:len(s)-n]
			moved = true
			if len(s) <= lead {
				break // the lead byte went too: look at the new end
			}
		}
		if !moved {
			return s
		}
	}
	return s
}
