package storage

import (
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/warden-rpc/warden/abi"
)

// statement is one plugin statement, checked and ready to run.
type statement struct {
	// text is the first and only statement of the call, without the
	// trailing semicolon, whitespace or comments.
	text string
	// keyword is the statement's first word, upper-cased ("SELECT").
	keyword string
	// renameTo is the new name in ALTER TABLE ... RENAME TO name, which
	// SQLite's authorizer never sees; empty otherwise.
	renameTo string
	// params is at least the highest argument ordinal the statement can
	// use (see paramCount): more arguments are refused.
	params int
	// args are the bound values, with ordinals from 1.
	args []driver.NamedValue
}

// Token classes and states of SQLite's sqlite3_complete, ported from
// complete.c: a statement ends at a semicolon, except inside CREATE TRIGGER
// ... BEGIN ... END, which ends at the semicolon after "; END".
const (
	tkSemi = iota
	tkWS
	tkOther
	tkExplain
	tkCreate
	tkTemp
	tkTrigger
	tkEnd
)

// trans is sqlite3_complete's transition table, trans[state][token].
// States: 0 invalid, 1 start, 2 normal, 3 explain, 4 create, 5 trigger,
// 6 semi (inside a trigger), 7 end (inside a trigger).
var trans = [8][8]uint8{
	{1, 0, 2, 3, 4, 2, 2, 2},
	{1, 1, 2, 3, 4, 2, 2, 2},
	{1, 2, 2, 2, 2, 2, 2, 2},
	{1, 3, 3, 2, 4, 2, 2, 2},
	{1, 4, 2, 2, 2, 4, 5, 2},
	{6, 5, 5, 5, 5, 5, 5, 5},
	{6, 6, 5, 5, 5, 5, 5, 7},
	{1, 7, 5, 5, 5, 5, 5, 5},
}

// newStatement checks query (one statement only) and converts args.
//
// # Errors
//
// A *SQLError for an empty query, a second statement, more arguments than
// the statement has parameters or an argument of a type other than nil,
// int64, float64, string and []byte.
func newStatement(query string, args []any) (*statement, error) {
	st, err := parse(query)
	if err != nil {
		return nil, err
	}
	if len(args) > st.params {
		return nil, &SQLError{Msg: fmt.Sprintf("%d arguments for a statement with %d parameters", len(args), st.params)}
	}
	if st.args, err = bindArgs(args); err != nil {
		return nil, err
	}
	return st, nil
}

// parse splits off the first statement of query and refuses a second one.
func parse(query string) (*statement, error) {
	st := &statement{}
	state, count, start, end := uint8(0), 0, 0, 0
	var prev [2]string // the two words before the current token, for RENAME TO
	var pc paramCount
	for i := 0; i < len(query); {
		n, tk := nextToken(query[i:])
		if pn := pc.token(query[i:]); pn > 0 {
			n, tk = pn, tkOther
		}
		word := query[i : i+n]
		before := state
		state = trans[state][tk]
		if before <= 1 && state > 1 {
			if count++; count > 1 {
				return nil, &SQLError{Msg: "multiple statements in one call are not allowed"}
			}
			start, st.keyword = i, strings.ToUpper(word)
		}
		if tk != tkWS && state != 1 {
			end = i + n
			if st.keyword == "ALTER" {
				if strings.EqualFold(prev[0], "RENAME") && strings.EqualFold(prev[1], "TO") {
					st.renameTo = unquote(word)
				}
				prev[0], prev[1] = prev[1], word
			}
		}
		i += n
	}
	if count == 0 {
		return nil, &SQLError{Msg: "empty statement"}
	}
	st.text, st.params = query[start:end], pc.max()
	return st, nil
}

// nextToken returns the length and class of the token at the start of s,
// which is not empty. Unterminated strings and comments run to the end.
func nextToken(s string) (int, int) {
	switch c := s[0]; {
	case c == ';':
		return 1, tkSemi
	case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
		return 1, tkWS
	case c == '/' && strings.HasPrefix(s, "/*"):
		if j := strings.Index(s[2:], "*/"); j >= 0 {
			return j + 4, tkWS
		}
		return len(s), tkWS
	case c == '-' && strings.HasPrefix(s, "--"):
		if j := strings.IndexByte(s, '\n'); j >= 0 {
			return j + 1, tkWS
		}
		return len(s), tkWS
	case c == '\'' || c == '"' || c == '`' || c == '[':
		closer := c
		if c == '[' {
			closer = ']'
		}
		if j := strings.IndexByte(s[1:], closer); j >= 0 {
			return j + 2, tkOther
		}
		return len(s), tkOther
	case isIDChar(c):
		n := 1
		for n < len(s) && isIDChar(s[n]) {
			n++
		}
		return n, keywordToken(s[:n])
	default:
		return 1, tkOther
	}
}

// paramCount counts a statement's parameters as SQLite numbers them
// (sqlite3ExprAssignVarNumber) and the driver binds them: ? takes the next
// number, ?NNN is NNN, a named parameter (:a, @a, $a) takes the next
// number, and the driver binds $NNN to argument NNN whatever its number.
// A repeated name is counted again, which only overestimates: extra
// arguments are then accepted rather than a valid statement refused.
type paramCount struct {
	vars int // SQLite's highest parameter number
	ord  int // the highest $NNN
}

// max returns at least the highest argument ordinal the statement uses.
func (pc *paramCount) max() int { return max(pc.vars, pc.ord) }

// token returns the length of the parameter at the start of s, counting it,
// or 0 if there is none.
func (pc *paramCount) token(s string) int {
	switch c := s[0]; {
	case c == '?':
		n := 1
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 1 {
			pc.vars++
		} else {
			pc.vars = max(pc.vars, ordinal(s[1:n]))
		}
		return n
	case (c == ':' || c == '@' || c == '$') && len(s) > 1 && isIDChar(s[1]):
		n := 1
		for n < len(s) && isIDChar(s[n]) {
			n++
		}
		pc.vars++
		if c == '$' {
			pc.ord = max(pc.ord, ordinal(s[1:n]))
		}
		return n
	}
	return 0
}

// ordinal returns the value of digits, 0 if it has other characters, and
// a huge number (which SQLite refuses) when it overflows.
func ordinal(digits string) int {
	v := 0
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0
		}
		if v = v*10 + int(digits[i]-'0'); v > 1<<30 {
			return 1 << 30
		}
	}
	return v
}

// isIDChar reports whether c may appear in an SQLite identifier.
func isIDChar(c byte) bool {
	return c >= 0x80 || c == '_' || c == '$' ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// keywordToken classifies a word for the sqlite3_complete state machine.
func keywordToken(w string) int {
	switch strings.ToUpper(w) {
	case "CREATE":
		return tkCreate
	case "TRIGGER":
		return tkTrigger
	case "TEMP", "TEMPORARY":
		return tkTemp
	case "END":
		return tkEnd
	case "EXPLAIN":
		return tkExplain
	}
	return tkOther
}

// unquote strips SQL quoting from an identifier or string token.
func unquote(tok string) string {
	if len(tok) >= 2 {
		switch tok[0] {
		case '"', '\'', '`', '[':
			return tok[1 : len(tok)-1]
		}
	}
	return tok
}

// bindArgs converts the five value types of the API into driver values.
// A nil []byte is an empty BLOB: only an untyped nil binds NULL. More than
// abi.MaxSQLParams arguments are refused: no statement can use them.
func bindArgs(args []any) ([]driver.NamedValue, error) {
	if len(args) == 0 {
		return nil, nil
	}
	if len(args) > abi.MaxSQLParams {
		return nil, &SQLError{Msg: fmt.Sprintf("%d arguments: a statement has at most %d parameters", len(args), abi.MaxSQLParams)}
	}
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case nil, int64, float64, string:
		case []byte:
			if v == nil {
				a = []byte{}
			}
		default:
			return nil, &SQLError{Msg: fmt.Sprintf("argument %d: unsupported type %T", i+1, a)}
		}
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv, nil
}
