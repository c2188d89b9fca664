package storage

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// fts5's snippet() scores each match of the row against every other match,
// and each against the sentences before it, in one call that SQLite never
// interrupts and that allocates nothing once it has started: a row of
// 30,000 tokens 'a' matched by 'a' ran 12.5 s under a 200 ms deadline
// (TestSession_deadlineFTS5Snippet). Warden puts its own snippet() in
// front of fts5's on every connection: it reckons the work from the row's
// number of matches and tokens (both known to fts5 before the call) and
// fails the call with SQLITE_TOOBIG past maxSnippetWork, else calls fts5's
// own, so the answers are fts5's.

// maxSnippetWork bounds the work of one snippet() call, reckoned as
// matches × (16 × matches × columns + tokens): the score of a window
// walks every match (some 20 ns a step here), the search for its
// sentence walks the sentences before it (some 1.4 ns a step). With
// fts5's own, on the 2-core VM: a row of 2,900 tokens that all match
// (just over the bound) took 0.33 s, 2,000 (within it) about 0.17 s;
// 1,000 matches in 16,000 tokens 40 ms, 100 matches after 400,000
// sentences 55 ms (both well within).
const maxSnippetWork = 1 << 27

// fts5Snippet is fts5's own snippet(), as a C function pointer, found on
// the first connection (every connection's is the same function).
var fts5Snippet atomic.Uintptr

// snippetFuncPtr is snippetCall as SQLite's C function pointer.
var snippetFuncPtr = fp(snippetCall)

// Static C strings for boundSnippet.
const (
	snippetName   = "snippet\x00"
	fts5APIQuery  = "SELECT fts5(?1)\x00"
	fts5APIPtr    = "fts5_api_ptr\x00"
	errSnippetBig = "snippet(): the row has too many matches for its size (use highlight(), or a shorter column)\x00"
)

// cstrOf returns the address of static C string s (ending in NUL).
func cstrOf(s string) uintptr { return uintptr(unsafe.Pointer(unsafe.StringData(s))) }

// boundSnippet puts snippetCall in front of fts5's snippet() on
// connection db.
//
// # Errors
//
// When fts5 is not there, or refuses the function.
func boundSnippet(tls *libc.TLS, db uintptr) error {
	api, err := fts5API(tls, db)
	if err != nil {
		return err
	}
	g := (*sqlite3.TFts5Global)(cptr(api))
	for a := g.FpAux; a != 0; a = (*sqlite3.TFts5Auxiliary)(cptr(a)).FpNext {
		aux := (*sqlite3.TFts5Auxiliary)(cptr(a))
		if libc.GoString(aux.FzFunc) == "snippet" && aux.FxFunc != snippetFuncPtr {
			fts5Snippet.CompareAndSwap(0, aux.FxFunc)
			if fts5Snippet.Load() != aux.FxFunc {
				return fmt.Errorf("fts5's snippet() is not the function of the first connection")
			}
			break
		}
	}
	if fts5Snippet.Load() == 0 {
		return fmt.Errorf("fts5 has no snippet()")
	}
	create := *(*func(*libc.TLS, uintptr, uintptr, uintptr, uintptr, uintptr) int32)(unsafe.Pointer(&g.Fapi.FxCreateFunction))
	if rc := create(tls, api, cstrOf(snippetName), 0, snippetFuncPtr, 0); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("install snippet(): %s", libc.GoString(sqlite3.Xsqlite3_errstr(tls, rc)))
	}
	return nil
}

// fts5API returns connection db's fts5_api (fts5's documented way: a
// pointer out of `SELECT fts5(?1)`).
func fts5API(tls *libc.TLS, db uintptr) (uintptr, error) {
	mem := libc.Xmalloc(tls, 16) // the statement, then the API
	if mem == 0 {
		return 0, fmt.Errorf("fts5 API: out of memory")
	}
	defer libc.Xfree(tls, mem)
	*(*[2]uintptr)(cptr(mem)) = [2]uintptr{}
	if rc := sqlite3.Xsqlite3_prepare_v2(tls, db, cstrOf(fts5APIQuery), -1, mem, 0); rc != sqlite3.SQLITE_OK {
		return 0, fmt.Errorf("fts5 API: %s", libc.GoString(sqlite3.Xsqlite3_errmsg(tls, db)))
	}
	stmt := *(*uintptr)(cptr(mem))
	defer sqlite3.Xsqlite3_finalize(tls, stmt)
	sqlite3.Xsqlite3_bind_pointer(tls, stmt, 1, mem+8, cstrOf(fts5APIPtr), 0)
	sqlite3.Xsqlite3_step(tls, stmt)
	api := *(*uintptr)(cptr(mem + 8))
	if api == 0 {
		return 0, fmt.Errorf("fts5 API: none")
	}
	return api, nil
}

// snippetCall is Warden's snippet(): fts5's own, when the row's work is
// within maxSnippetWork.
func snippetCall(tls *libc.TLS, pApi, pFts, pCtx uintptr, nVal int32, apVal uintptr) {
	api := (*sqlite3.TFts5ExtensionApi)(cptr(pApi))
	mem := tls.Alloc(8)
	defer tls.Free(8)
	n := (*int32)(cptr(mem))
	*n = 0
	instCount := *(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&api.FxInstCount))
	columnSize := *(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&api.FxColumnSize))
	columnCount := *(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&api.FxColumnCount))
	if rc := instCount(tls, pFts, mem); rc != sqlite3.SQLITE_OK {
		sqlite3.Xsqlite3_result_error_code(tls, pCtx, rc)
		return
	}
	matches := int64(*n)
	*n = 0
	if rc := columnSize(tls, pFts, -1, mem); rc != sqlite3.SQLITE_OK {
		sqlite3.Xsqlite3_result_error_code(tls, pCtx, rc)
		return
	}
	tokens := int64(*n)
	if matches*(16*matches*int64(columnCount(tls, pFts))+tokens) > maxSnippetWork {
		sqlite3.Xsqlite3_result_error(tls, pCtx, cstrOf(errSnippetBig), -1)
		sqlite3.Xsqlite3_result_error_code(tls, pCtx, sqlite3.SQLITE_TOOBIG)
		return
	}
	own := fts5Snippet.Load()
	(*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr))(unsafe.Pointer(&own)))(tls, pApi, pFts, pCtx, nVal, apVal)
}
