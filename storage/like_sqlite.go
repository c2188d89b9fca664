package storage

import (
	"fmt"
	"iter"
	"strings"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/warden-rpc/warden/abi"
)

// Warden's LIKE and GLOB (like.go) are installed on every SQLite
// connection the process opens, right after it opens, in the shape of
// SQLite's own: like with 2 and 3 arguments, glob with 2, deterministic
// and innocuous. They are registered through SQLite's C interface, not the
// driver's, for two reasons: the driver keeps one function per name, and
// SQLite's query planner turns `col LIKE 'abc%'` and `col GLOB 'abc*'`
// into an index range only for a function flagged SQLITE_FUNC_LIKE whose
// user data starts with its wildcards (sqlite3IsLikeFunction), which no
// public interface sets; replaceLike sets it on Warden's functions, whose
// answers are SQLite's, so plugins' prefix searches keep their indexes
// (TestLike_indexRange).
func init() {
	sqlite.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		return installFunctions(c)
	})
}

// installFunctions installs Warden's LIKE, GLOB, json_patch and
// jsonb_patch (jsonpatch.go) and snippet() (fts5.go) on driver connection
// dc.
//
// # Errors
//
// When dc has no SQLite handle, or SQLite refuses one of them.
func installFunctions(dc any) error {
	tls, db := driverConn(dc)
	if tls == nil {
		return fmt.Errorf("driver connection %T: no SQLite handle to install functions on", dc)
	}
	if err := replaceLike(tls, db); err != nil {
		return err
	}
	if err := guardJSONPatch(tls, db); err != nil {
		return err
	}
	return boundSnippet(tls, db)
}

// likeInfo is a LIKE or GLOB function's user data: SQLite's
// compareInfo, whose first three bytes the planner reads (the match-all
// and match-one wildcards, and '[' when classes open with it), then
// whether ASCII letters match either case.
type likeInfo [4]byte

// likeInfos are the user data of like and glob. They are never freed
// nor moved: SQLite keeps their addresses.
var likeInfos = [2]likeInfo{{'%', '_', 0, 1}, {'*', '?', '[', 0}}

// rules returns the likeRules of info, before any ESCAPE.
func (info *likeInfo) rules() likeRules {
	return likeRules{all: uint32(info[0]), one: uint32(info[1]), sets: info[2] != 0, fold: info[3] != 0}
}

// likeFuncs are the functions replaceLike installs, with the flags the
// planner looks for (SQLite's own LIKE has SQLITE_FUNC_LIKE, GLOB also
// SQLITE_FUNC_CASE, as it is case-sensitive).
var likeFuncs = [...]struct {
	name  string
	nArg  int32
	info  *likeInfo
	flags uint32
}{
	{"like\x00", 2, &likeInfos[0], sqlite3.SQLITE_FUNC_LIKE},
	{"like\x00", 3, &likeInfos[0], sqlite3.SQLITE_FUNC_LIKE},
	{"glob\x00", 2, &likeInfos[1], sqlite3.SQLITE_FUNC_LIKE | sqlite3.SQLITE_FUNC_CASE},
}

// likeFuncPtr is likeCall as SQLite's C function pointer.
var likeFuncPtr = fp(likeCall)

// replaceLike installs Warden's LIKE and GLOB on connection db.
//
// # Errors
//
// When SQLite refuses a function.
func replaceLike(tls *libc.TLS, db uintptr) error {
	for _, f := range likeFuncs {
		rc := sqlite3.Xsqlite3_create_function_v2(tls, db, cstrOf(f.name), f.nArg,
			sqlite3.SQLITE_UTF8|sqlite3.SQLITE_DETERMINISTIC|sqlite3.SQLITE_INNOCUOUS,
			uintptr(unsafe.Pointer(f.info)), likeFuncPtr, 0, 0, 0)
		if rc != sqlite3.SQLITE_OK {
			return fmt.Errorf("install %s/%d: %s", strings.TrimSuffix(f.name, "\x00"), f.nArg, libc.GoString(sqlite3.Xsqlite3_errstr(tls, rc)))
		}
	}
	return flagLikeFuncs(db)
}

// flagLikeFuncs sets the planner's flags on the functions replaceLike
// installed on connection db, found in its table of functions
// (connFuncs).
//
// # Errors
//
// When one of them is not there.
func flagLikeFuncs(db uintptr) error {
	found := 0
	for def := range connFuncs(db, likeFuncPtr) {
		for _, f := range likeFuncs {
			if libc.GoString(def.FzName)+"\x00" == f.name && int32(def.FnArg) == f.nArg {
				def.FfuncFlags |= f.flags
				found++
			}
		}
	}
	if found != len(likeFuncs) {
		return fmt.Errorf("flag LIKE and GLOB for the planner: found %d of %d", found, len(likeFuncs))
	}
	return nil
}

// connFuncs yields the definitions in connection db's table of functions
// (db->aFunc: a hash of names to the newest definition, which chains the
// others of the name through pNext) whose function is xSFunc.
func connFuncs(db, xSFunc uintptr) iter.Seq[*sqlite3.TFuncDef] {
	return func(yield func(*sqlite3.TFuncDef) bool) {
		conn := (*sqlite3.Tsqlite3)(cptr(db))
		for e := conn.FaFunc.Ffirst; e != 0; e = (*sqlite3.THashElem)(cptr(e)).Fnext {
			for d := (*sqlite3.THashElem)(cptr(e)).Fdata; d != 0; d = (*sqlite3.TFuncDef)(cptr(d)).FpNext {
				if def := (*sqlite3.TFuncDef)(cptr(d)); def.FxSFunc == xSFunc && !yield(def) {
					return
				}
			}
		}
	}
}

// sqlArg returns argument i of a function call's argv.
func sqlArg(argv uintptr, i int32) uintptr {
	return *(*uintptr)(cptr(argv + uintptr(i)*unsafe.Sizeof(uintptr(0))))
}

// sqlValueBytes returns SQLite value v's type and, for TEXT or a BLOB, its
// bytes without a copy (valid until v changes).
func sqlValueBytes(tls *libc.TLS, v uintptr) (int32, string) {
	typ := sqlite3.Xsqlite3_value_type(tls, v)
	var p uintptr
	switch typ {
	case sqlite3.SQLITE_TEXT:
		p = sqlite3.Xsqlite3_value_text(tls, v)
	case sqlite3.SQLITE_BLOB:
		p = sqlite3.Xsqlite3_value_blob(tls, v)
	}
	if p == 0 {
		return typ, ""
	}
	return typ, unsafe.String((*byte)(cptr(p)), int(sqlite3.Xsqlite3_value_bytes(tls, v)))
}

// sqlValueText returns SQLite value v as sqlite3_value_text sees it, up to
// its first NUL, without a copy (valid until v changes), and false for
// NULL.
func sqlValueText(tls *libc.TLS, v uintptr) (string, bool) {
	p := sqlite3.Xsqlite3_value_text(tls, v)
	if p == 0 {
		return "", false
	}
	n := sqlite3.Xsqlite3_value_bytes(tls, v)
	return cString(unsafe.String((*byte)(cptr(p)), int(n))), true
}

// Errors of LIKE and GLOB, in SQLite's words.
const (
	errLikeTooComplex = "LIKE or GLOB pattern too complex\x00"
	errLikeEscape     = "ESCAPE expression must be a single character\x00"
)

// likeCall is like(P, S), like(P, S, E) and glob(P, S): whether S matches
// pattern P (`S LIKE P ESCAPE E`, `S GLOB P`), as SQLite answers it: 0
// when P or S is a BLOB (this build's SQLITE_LIKE_DOESNT_MATCH_BLOBS),
// an error when P is longer than abi.MaxLikePatternBytes (SQLite's
// default SQLITE_LIMIT_LIKE_PATTERN_LENGTH, which setLimits sets on a
// plugin's connections) or E is not one character, NULL when any is NULL. A statement past its
// deadline ends it with SQLITE_INTERRUPT.
func likeCall(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr) {
	if sqlite3.Xsqlite3_value_type(tls, sqlArg(argv, 0)) == sqlite3.SQLITE_BLOB ||
		sqlite3.Xsqlite3_value_type(tls, sqlArg(argv, 1)) == sqlite3.SQLITE_BLOB {
		sqlite3.Xsqlite3_result_int(tls, ctx, 0)
		return
	}
	if sqlite3.Xsqlite3_value_bytes(tls, sqlArg(argv, 0)) > abi.MaxLikePatternBytes {
		sqlite3.Xsqlite3_result_error(tls, ctx, cstrOf(errLikeTooComplex), -1)
		return
	}
	r := (*likeInfo)(cptr(sqlite3.Xsqlite3_user_data(tls, ctx))).rules()
	if argc == 3 {
		esc, ok := sqlValueText(tls, sqlArg(argv, 2))
		if !ok {
			return
		}
		e, n := uint32(0), 0
		for i := 0; i < len(esc); n++ {
			e, i = sqlChar(esc, i)
		}
		if n != 1 {
			sqlite3.Xsqlite3_result_error(tls, ctx, cstrOf(errLikeEscape), -1)
			return
		}
		if e == r.all {
			r.all = 0
		}
		if e == r.one {
			r.one = 0
		}
		r.esc = e
	}
	pat, ok := sqlValueText(tls, sqlArg(argv, 0))
	if !ok {
		return
	}
	s, ok := sqlValueText(tls, sqlArg(argv, 1))
	if !ok {
		return
	}
	clock := likeClock{}
	var cache *likeCache
	if c := connOf(tls); c != nil {
		clock.stopped, cache = c.stopped, &c.like
		cache.owner = uintptr(unsafe.Pointer(c.heap))
	}
	matched, ok := cache.compile(pat, r).match(s, &clock)
	if !ok {
		sqlite3.Xsqlite3_result_error_code(tls, ctx, sqlite3.SQLITE_INTERRUPT)
		return
	}
	if matched {
		sqlite3.Xsqlite3_result_int(tls, ctx, 1)
	} else {
		sqlite3.Xsqlite3_result_int(tls, ctx, 0)
	}
}
