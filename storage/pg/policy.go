package pg

import (
	"fmt"
	"strings"

	"github.com/warden-rpc/warden/storage"
)

// The statement policy: checked on the statement's tokens before it is
// sent, it admits only the statement kinds below and refuses, anywhere in
// the statement, calls of the functions in deniedFuncs, the views in
// deniedNames and deniedNamePrefixes, the pg_temp schema,
// temporary tables and Unicode-escaped names (U&"...") that could spell a
// refused name. What it misses, the plugin role's privileges stop (see
// RATIONALE.md): the policy is the first line, with clear errors.
var (
	// allowedFirst are the statement kinds a plugin may run, by first word.
	// CREATE, DROP and ALTER are further limited by allowedObjects.
	allowedFirst = map[string]bool{
		"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true,
		"WITH": true, "VALUES": true, "TABLE": true, "TRUNCATE": true,
		"CREATE": true, "DROP": true, "ALTER": true,
	}
	// allowedObjects are the objects a plugin may create, drop or alter.
	allowedObjects = map[string]bool{"TABLE": true, "INDEX": true, "VIEW": true, "SEQUENCE": true}

	// deniedFuncs are functions a plugin may not call: set_config could
	// set the role back to Warden's; the others run SQL given as a string,
	// hold locks, send notifications or write WAL (logical messages) beyond
	// the transaction, touch the server's files or large objects, which
	// all plugins share, read the server's settings, or signal other
	// sessions.
	deniedFuncs = map[string]bool{
		"set_config": true, "pg_notify": true,
		"query_to_xml": true, "query_to_xmlschema": true, "query_to_xml_and_xmlschema": true,
		"cursor_to_xml": true, "cursor_to_xmlschema": true, "ts_stat": true, "ts_rewrite": true,
		"pg_stat_file": true, "pg_current_logfile": true,
		"current_setting": true, "pg_show_all_settings": true, "pg_settings_get_flags": true,
		"pg_cancel_backend": true, "pg_terminate_backend": true, "pg_reload_conf": true,
		// random()'s seed lasts as long as the pooled connection, so the
		// next plugin on it would draw values its caller could compute.
		"setseed": true,
		// Sizes, files and row counts of any relation by OID, another
		// plugin's included, and the server's and the node's addresses.
		"pg_relation_size": true, "pg_total_relation_size": true, "pg_table_size": true,
		"pg_indexes_size": true, "pg_relation_filenode": true, "pg_relation_filepath": true,
		"pg_database_size": true, "pg_tablespace_size": true,
		"inet_server_addr": true, "inet_server_port": true, "inet_client_addr": true, "inet_client_port": true,
	}
	// deniedFuncPrefixes extend deniedFuncs to families of functions.
	// pg_logical_ covers pg_logical_emit_message, whose non-transactional
	// form writes WAL that a rollback keeps, and the logical slot functions;
	// pg_read_, pg_ls_ and pg_file_ read, list or (adminpack) write the
	// server's files; pg_partition_ take locks on any partitioned table by
	// OID, another plugin's included, held to the end of the transaction;
	// pg_stat_ and pg_statio_ read any relation's counters.
	deniedFuncPrefixes = []string{"pg_advisory", "pg_try_advisory", "lo_", "dblink", "pg_logical_",
		"pg_read_", "pg_ls_", "pg_file_", "pg_partition_", "pg_stat_", "pg_statio_"}
	// deniedNames are views a plugin may not name anywhere: they show the
	// server's settings and configuration files.
	deniedNames = map[string]bool{
		"pg_settings": true, "pg_file_settings": true, "pg_hba_file_rules": true,
		"pg_ident_file_mappings": true, "pg_config": true,
	}
	// deniedNamePrefixes extend deniedNames to families of views: the
	// statistics views show every relation's row counts and activity,
	// another plugin's and Warden's own included (pg_stats, which filters
	// by privilege, is not among them).
	deniedNamePrefixes = []string{"pg_stat_", "pg_statio_"}
)

// token is one lexical token of a statement.
type token struct {
	kind tokenKind
	text string // a word upper-cased, a quoted identifier unquoted, else as written
}

// tokenKind classifies tokens.
type tokenKind int

const (
	tkWord   tokenKind = iota // keyword or unquoted identifier
	tkIdent                   // "quoted identifier"
	tkString                  // any string constant, including $$...$$
	tkParam                   // $1
	tkSemi                    // ;
	tkOther                   // numbers, operators, punctuation
)

// checkPolicy refuses query unless it is one statement the policy admits,
// and reports whether the statement changes the schema (CREATE, DROP or
// ALTER, or a SELECT INTO, which creates a table: see createsByInto).
//
// # Errors
//
// storage.ErrNotAllowed naming the refusal, or a *storage.SQLError for an
// empty query or a second statement.
func checkPolicy(query string) (ddl bool, err error) {
	toks, err := tokenize(query)
	if err != nil {
		return false, err
	}
	if err := checkTokens(toks); err != nil {
		return false, err
	}
	switch toks[0].text {
	case "CREATE", "DROP", "ALTER":
		return true, nil
	}
	return createsByInto(toks), nil
}

// createsByInto reports whether a statement may be a SELECT INTO (or a
// WITH ... SELECT INTO), which creates a table: it has the word INTO other
// than after INSERT. A false positive only costs the statement the
// plugin's DDL lock.
func createsByInto(toks []token) bool {
	for i, t := range toks {
		if t.kind == tkWord && t.text == "INTO" && (i == 0 || toks[i-1].kind != tkWord || toks[i-1].text != "INSERT") {
			return true
		}
	}
	return false
}

// checkTokens applies the policy to a statement's tokens.
func checkTokens(toks []token) error {
	if len(toks) == 0 || toks[0].kind == tkSemi {
		return &storage.SQLError{Msg: "empty statement"}
	}
	for i, t := range toks {
		if t.kind == tkSemi && i != len(toks)-1 {
			return &storage.SQLError{Msg: "multiple statements in one call are not allowed"}
		}
	}
	first := toks[0]
	if first.kind != tkWord || !allowedFirst[first.text] {
		return notAllowed("%s statements: plugins may run SELECT, INSERT, UPDATE, DELETE, WITH, VALUES, TRUNCATE and CREATE, DROP or ALTER of tables, indexes, views and sequences; transactions go through Begin, Commit and Rollback", first.text)
	}
	if first.text == "CREATE" || first.text == "DROP" || first.text == "ALTER" {
		if obj := objectWord(toks[1:]); !allowedObjects[obj] {
			return notAllowed("%s %s", first.text, obj)
		}
	}
	for i, t := range toks {
		if err := checkToken(toks, i, t); err != nil {
			return err
		}
	}
	return nil
}

// objectWord returns the kind of object a CREATE, DROP or ALTER names,
// skipping OR REPLACE and UNIQUE.
func objectWord(toks []token) string {
	for _, t := range toks {
		if t.kind != tkWord {
			return t.text
		}
		switch t.text {
		case "OR", "REPLACE", "UNIQUE":
			continue
		}
		return t.text
	}
	return ""
}

// checkToken applies the anywhere-rules to toks[i].
func checkToken(toks []token, i int, t token) error {
	name := strings.ToLower(t.text)
	if t.kind == tkIdent {
		name = t.text // quoted names are case-sensitive
	}
	if t.kind != tkWord && t.kind != tkIdent {
		return nil
	}
	if name == "pg_temp" || strings.HasPrefix(name, "pg_temp_") {
		return notAllowed("the pg_temp schema")
	}
	if deniedNames[name] || hasAnyPrefix(name, deniedNamePrefixes) {
		return notAllowed("the %s view", name)
	}
	if (t.text == "TEMP" || t.text == "TEMPORARY") && t.kind == tkWord && i > 0 && toks[i-1].kind == tkWord {
		switch toks[i-1].text {
		case "INTO", "CREATE", "GLOBAL", "LOCAL":
			return notAllowed("temporary tables")
		}
	}
	if i+1 < len(toks) && toks[i+1].kind == tkOther && toks[i+1].text == "(" && deniedFunc(name) {
		return notAllowed("function %s", name)
	}
	return nil
}

// deniedFunc reports whether a call of name is refused.
func deniedFunc(name string) bool {
	return deniedFuncs[name] || hasAnyPrefix(name, deniedFuncPrefixes)
}

// hasAnyPrefix reports whether name starts with one of prefixes.
func hasAnyPrefix(name string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// notAllowed returns storage.ErrNotAllowed with a reason.
func notAllowed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", storage.ErrNotAllowed, fmt.Sprintf(format, args...))
}

// tokenize splits query into tokens, dropping whitespace and comments. It
// follows PostgreSQL's lexer where it matters for the policy: standard
// strings, where a backslash is an ordinary character (standard_conforming_
// strings is on in every plugin transaction), escape strings (E'...'), where
// it escapes the next character, dollar-quoted strings ($tag$...$tag$), quoted
// identifiers and nested block comments. A string that follows a string
// across whitespace and line comments holding a newline continues it, and
// continues an escape string as one: its backslashes escape too.
//
// # Errors
//
// storage.ErrNotAllowed for a Unicode-escaped string or identifier (U&),
// a *storage.SQLError for an unterminated string, identifier or comment.
func tokenize(q string) ([]token, error) {
	var toks []token
	// esc: the last token is an escape string; newline and block: what
	// was skipped since the last token (see continuesEscape).
	esc, newline, block := false, false, false
	add := func(t token, isEsc bool) {
		toks = append(toks, t)
		esc, newline, block = isEsc, false, false
	}
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			newline = newline || c == '\n' || c == '\r'
			i++
		case strings.HasPrefix(q[i:], "--"):
			// PostgreSQL ends it at a CR as at a LF (scan.l's newline).
			j := strings.IndexAny(q[i:], "\n\r")
			if j < 0 {
				return toks, nil
			}
			i, newline = i+j+1, true
		case strings.HasPrefix(q[i:], "/*"):
			n, err := blockComment(q[i:])
			if err != nil {
				return nil, err
			}
			i, block = i+n, true
		case c == '\'':
			// scan.l's quotecontinue: no block comment may come between.
			cont := esc && newline && !block
			n, err := quoted(q[i:], '\'', cont)
			if err != nil {
				return nil, err
			}
			add(token{tkString, q[i : i+n]}, cont)
			i += n
		case c == '"':
			n, err := quoted(q[i:], '"', false)
			if err != nil {
				return nil, err
			}
			add(token{tkIdent, strings.ReplaceAll(q[i+1:i+n-1], `""`, `"`)}, false)
			i += n
		case c == '$':
			n, kind, err := dollar(q[i:])
			if err != nil {
				return nil, err
			}
			add(token{kind, q[i : i+n]}, false)
			i += n
		case isIdentStart(c):
			t, n, err := word(q[i:])
			if err != nil {
				return nil, err
			}
			add(t, t.kind == tkString && (t.text[0] == 'E' || t.text[0] == 'e'))
			i += n
		case c == ';':
			add(token{tkSemi, ";"}, false)
			i++
		default:
			add(token{tkOther, q[i : i+1]}, false)
			i++
		}
	}
	return toks, nil
}

// word returns the token at the start of s, which starts a word: a
// keyword or unquoted identifier, or a string with a prefix (E'...',
// B'...', X'...', N'...').
//
// # Errors
//
// storage.ErrNotAllowed for U&, a *storage.SQLError for an unterminated
// string.
func word(s string) (token, int, error) {
	n := 1
	for n < len(s) && isIdentChar(s[n]) {
		n++
	}
	w, rest := strings.ToUpper(s[:n]), s[n:]
	if !strings.HasPrefix(rest, "'") && !strings.HasPrefix(rest, "&") {
		return token{tkWord, w}, n, nil
	}
	switch {
	case w == "U" && rest[0] == '&':
		return token{}, 0, notAllowed("Unicode escapes (U&)")
	case w == "E" || w == "B" || w == "X" || w == "N":
		if rest[0] != '\'' {
			break
		}
		m, err := quoted(rest, '\'', w == "E")
		if err != nil {
			return token{}, 0, err
		}
		return token{tkString, s[:n+m]}, n + m, nil
	}
	return token{tkWord, w}, n, nil
}

// quoted returns the length of the quoted token at the start of s, closed by
// an unpaired q; with backslash set, a backslash escapes the next byte.
func quoted(s string, q byte, backslash bool) (int, error) {
	for i := 1; i < len(s); i++ {
		switch {
		case backslash && s[i] == '\\':
			i++
		case s[i] == q && i+1 < len(s) && s[i+1] == q:
			i++
		case s[i] == q:
			return i + 1, nil
		}
	}
	return 0, &storage.SQLError{Msg: "unterminated quoted string or identifier"}
}

// blockComment returns the length of the (nested) block comment at the
// start of s.
func blockComment(s string) (int, error) {
	depth := 0
	for i := 0; i+1 < len(s); i++ {
		switch {
		case s[i] == '/' && s[i+1] == '*':
			depth++
			i++
		case s[i] == '*' && s[i+1] == '/':
			depth--
			i++
			if depth == 0 {
				return i + 1, nil
			}
		}
	}
	return 0, &storage.SQLError{Msg: "unterminated comment"}
}

// dollar returns the length and kind of the token at the start of s, which
// starts with '$': a parameter ($1), a dollar-quoted string ($$...$$ or
// $tag$...$tag$), or a lone '$'.
func dollar(s string) (int, tokenKind, error) {
	n := 1
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n > 1 {
		return n, tkParam, nil
	}
	for n < len(s) && isIdentChar(s[n]) && s[n] != '$' {
		n++
	}
	if n >= len(s) || s[n] != '$' {
		return 1, tkOther, nil
	}
	tag := s[:n+1]
	end := strings.Index(s[len(tag):], tag)
	if end < 0 {
		return 0, 0, &storage.SQLError{Msg: "unterminated dollar-quoted string"}
	}
	return len(tag) + end + len(tag), tkString, nil
}

// isIdentStart reports whether c may start an unquoted identifier.
func isIdentStart(c byte) bool {
	return c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// isIdentChar reports whether c may continue an unquoted identifier.
func isIdentChar(c byte) bool {
	return isIdentStart(c) || c == '$' || (c >= '0' && c <= '9')
}
