package storage

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// The ports below follow SQLite's instrFunc, replaceFunc and trimFunc
// (func.c) loop for loop; TestFuncs_matchSQLite checks Warden's
// replacements against them.

func naiveInstr(hay, needle []byte, text bool) int64 {
	n := int64(1)
	for len(hay) >= len(needle) {
		if bytes.Equal(hay[:len(needle)], needle) {
			return n
		}
		n++
		for {
			hay = hay[1:]
			if !text || len(hay) == 0 || hay[0]&0xc0 != 0x80 {
				break
			}
		}
	}
	return 0
}

func naiveReplace(s, pat, rep []byte) []byte {
	if len(pat) == 0 || pat[0] == 0 {
		return s
	}
	var out []byte
	i := 0
	for ; i <= len(s)-len(pat); i++ {
		if s[i] != pat[0] || !bytes.Equal(s[i:i+len(pat)], pat) {
			out = append(out, s[i])
		} else {
			out = append(out, rep...)
			i += len(pat) - 1
		}
	}
	return append(out, s[i:]...)
}

func naiveTrim(in, set []byte, left, right bool) []byte {
	if i := bytes.IndexByte(set, 0); i >= 0 {
		set = set[:i]
	}
	var chars [][]byte
	for z := 0; z < len(set); {
		start := z
		z++
		if set[start] >= 0xc0 {
			for z < len(set) && set[z]&0xc0 == 0x80 {
				z++
			}
		}
		chars = append(chars, set[start:z])
	}
	if len(chars) == 0 {
		return in
	}
	if left {
		for len(in) > 0 {
			i := 0
			for ; i < len(chars); i++ {
				if len(chars[i]) <= len(in) && bytes.Equal(in[:len(chars[i])], chars[i]) {
					break
				}
			}
			if i == len(chars) {
				break
			}
			in = in[len(chars[i]):]
		}
	}
	if right {
		for len(in) > 0 {
			i := 0
			for ; i < len(chars); i++ {
				if c := chars[i]; len(c) <= len(in) && bytes.Equal(in[len(in)-len(c):], c) {
					break
				}
			}
			if i == len(chars) {
				break
			}
			in = in[:len(in)-len(chars[i])]
		}
	}
	return in
}

// randBytes returns up to n bytes from a small alphabet rich in what the
// functions treat apart: lead and continuation bytes, NUL, ASCII.
func randBytes(r *rand.Rand, n int) []byte {
	alphabet := []byte{'a', 'b', 0, 0x80, 0x81, 0xc3, 0xa9, 0xe2, 0xff}
	b := make([]byte, r.IntN(n+1))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

// TestFuncs_matchSQLite compares instr, replace, trim, ltrim and rtrim with
// the ports of SQLite's loops on random arguments, as TEXT and as BLOBs.
func TestFuncs_matchSQLite(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		a, b, c := randBytes(r, 12), randBytes(r, 4), randBytes(r, 3)
		blob := r.IntN(2) == 0
		var x, y driver.Value = string(a), string(b)
		if blob {
			x, y = a, b
		}
		got, _ := instrFunc([]driver.Value{x, y})
		if want := naiveInstr(a, b, !blob); got != want {
			t.Fatalf("instr(%q, %q) blob=%v = %v, want %d", a, b, blob, got, want)
		}
		got, _ = replaceFunc([]driver.Value{x, y, string(c)})
		if want := string(naiveReplace(a, b, c)); got != want {
			t.Fatalf("replace(%q, %q, %q) = %q, want %q", a, b, c, got, want)
		}
		for _, f := range []struct {
			name        string
			left, right bool
		}{{"trim", true, true}, {"ltrim", true, false}, {"rtrim", false, true}} {
			got, _ = trimFunc(f.name, f.left, f.right)([]driver.Value{x, y})
			if want := string(naiveTrim(a, b, f.left, f.right)); got != want {
				t.Fatalf("%s(%q, %q) = %q, want %q", f.name, a, b, got, want)
			}
		}
	}
}

// funcsSession returns a plugin session on a new database file, closed
// with the test.
func funcsSession(t *testing.T) *Session {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "f.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := db.NewSession()
	t.Cleanup(func() { s.Close() })
	return s
}

// TestFuncs_inSQL runs the replacements through a plugin session: their
// results and types are SQLite's, numbers read as SQLite writes them
// (floatText against CAST, which Warden does not replace), NULLs give
// NULL, and a result over the value limit is ErrLimit.
func TestFuncs_inSQL(t *testing.T) {
	s := funcsSession(t)
	ctx := context.Background()
	for _, tc := range []struct {
		sql  string
		want []any
	}{
		{"SELECT instr('héllo', 'l'), instr(x'68c3a96c6c6f', x'6c'), instr(12.5, '.5'), instr('abc', ''), instr(NULL, 'a')", []any{int64(3), int64(4), int64(3), int64(1), nil}},
		{"SELECT replace(12, 2, 3), typeof(replace(x'6161', 'a', 'b')), replace('abc', '', 'x'), replace('a', '', NULL), replace('a', 'a', NULL)", []any{"13", "text", "abc", "a", nil}},
		{"SELECT trim('  a  '), ltrim('xxa', 'x'), rtrim('ayy', 'y'), typeof(trim(x'616162', x'62')), trim('a', NULL), trim('éaé', 'é')", []any{"a", "a", "a", "text", nil, "a"}},
		{"SELECT replace(0.1 + 0.2, '0', ''), trim(1e20, '1'), instr(1.0 / 3, '2')", []any{".34", ".0e+20", int64(19)}},
	} {
		rows, err := s.Query(ctx, tc.sql, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		for i, w := range tc.want {
			if g := rows.Values[0][i]; g != w {
				t.Errorf("%s: column %d = %#v, want %#v", tc.sql, i, g, w)
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) {
			continue
		}
		switch i % 4 {
		case 1:
			f = float64(r.IntN(1e6)) / float64(r.IntN(1e4)+1)
		case 2:
			f = math.Round(f*1e3) / 1e3
		case 3:
			f = math.Ldexp(float64(r.Uint32()), r.IntN(120)-60)
		}
		rows, err := s.Query(ctx, "SELECT CAST($1 AS TEXT)", []any{f})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := floatText(f), rows.Values[0][0]; g != w {
			t.Fatalf("floatText(%v) = %q, SQLite writes %q", f, g, w)
		}
	}
	if _, err := s.Query(ctx, "SELECT replace(printf('%.*c', 1000, 'a'), 'a', printf('%.*c', 10000, 'b'))", nil); !errors.Is(err, ErrLimit) {
		t.Fatalf("a replace of 10 MB: %v, want ErrLimit", err)
	}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, q := range []string{
		"SELECT instr(printf('%.*c', 4000000, 'a'), printf('%.*c', 2000000, 'a') || 'b')",
		"SELECT length(trim(printf('%.*c', 2000000, 'a'), printf('%.*c', 1000000, 'b') || 'a'))",
		"SELECT length(rtrim(printf('%.*c', 2000000, 'a'), replace(printf('%.*c', 600000, 'x'), 'x', 'é') || 'a'))",
	} {
		if _, err := s.Query(tctx, q, nil); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
