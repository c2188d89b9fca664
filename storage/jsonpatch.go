package storage

import (
	"fmt"
	"sync/atomic"
	"unsafe" // and go:linkname

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite's json_patch(T, P) and jsonb_patch(T, P) (RFC 7396 merge) look
// each key of the patch up in the target by walking the target's keys,
// the keys the merge appended included, and each edit moves the rest of
// the document, in one call that SQLite never interrupts and that need
// allocate nothing: a 30,000-key target and a 30,000-key patch of nulls
// ran 14 s under a 200 ms deadline (TestSession_deadlineJSONPatch).
//
// Warden puts a guard in front of both on every connection: it reckons,
// in one pass over its arguments, an upper bound of the merge's work, the
// patch's keys times the keys it may walk (the target's and its own) and
// the bytes each edit may move, and fails the call past
// maxJSONPatchWork with SQLITE_TOOBIG; else it calls SQLite's own, so the
// answers are SQLite's. A call also ends at once when its statement is
// past its deadline, so a statement of many calls stops there.

// maxJSONPatchWork bounds jsonPatchWork: some 0.5 s of SQLite's merge at
// worst (flat objects, where the bound is tight: a label comparison some
// 15 ns here), some tens of milliseconds for nested ones.
const maxJSONPatchWork = 1 << 25

// jsonEscBytesPerUnit is how many bytes of a label with an escape count
// as one unit of jsonPatchWork: SQLite compares such a label (either
// side) character by character (jsonLabelCompareEscaped), up to 5.6 ns
// a byte here (labels of 2-byte escapes), where two labels without one
// are a memcmp when their lengths are equal and nothing when not.
const jsonEscBytesPerUnit = 2

// jsonDepths is how many depths jsonKeys tells apart; the keys deeper
// count at the last.
const jsonDepths = 16

// jsonKeyCounts bound a JSON value's keys: by depth, or, when its
// shape is not known (a BLOB that is not well-formed JSONB), anywhere,
// up to any in all; and likewise the bytes of its labels that have an
// escape (esc, escAny).
type jsonKeyCounts struct {
	depth  [jsonDepths]int64
	any    int64
	esc    [jsonDepths]int64
	escAny int64
}

// at returns the bound of the keys at depth d.
func (k *jsonKeyCounts) at(d int) int64 { return k.depth[d] + k.any }

// escAt returns the bound of the bytes of the labels with an escape at
// depth d.
func (k *jsonKeyCounts) escAt(d int) int64 { return k.esc[d] + k.escAny }

// escTotal returns the bound of the bytes of all the labels with an
// escape.
func (k *jsonKeyCounts) escTotal() int64 {
	n := k.escAny
	for _, v := range k.esc {
		n += v
	}
	return n
}

// total returns the bound of all the keys.
func (k *jsonKeyCounts) total() int64 {
	n := k.any
	for _, v := range k.depth {
		n += v
	}
	return n
}

// jsonPatchWork bounds the work of SQLite's merge of patch p into target
// t (key counts, and sizes in bytes): the merge compares a key of the
// patch only with keys of the target at its depth, and with the keys it
// appended there (the patch's own), and each key may edit, moving at most
// the whole result, counted as a comparison per 256 bytes. A comparison
// where either label has an escape walks up to the shorter label's bytes:
// the patch's escaped labels against every label they meet, and every
// key of the patch against the escaped labels it meets, counted as a
// comparison per jsonEscBytesPerUnit bytes.
func jsonPatchWork(t jsonKeyCounts, tBytes int64, p jsonKeyCounts, pBytes int64) int64 {
	keys := p.total()
	var work, esc int64
	if p.any > 0 || p.escAny > 0 {
		// Keys at unknown depths: each meets at most the most keys the
		// target has at one depth, and every key of the patch.
		most := int64(0)
		for d := range t.depth {
			most = max(most, t.at(d))
		}
		work = keys * (most + keys)
		esc = p.escTotal()*(most+keys) + keys*(t.escTotal()+p.escTotal())
	} else {
		for d := range p.depth {
			work += p.depth[d] * (t.at(d) + p.depth[d])
			esc += p.esc[d]*(t.at(d)+p.depth[d]) + p.depth[d]*(t.escAt(d)+p.esc[d])
		}
	}
	return work + esc/jsonEscBytesPerUnit + keys*((tBytes+pBytes)/256)
}

// jsonKeys returns an upper bound of the object keys in JSON value v of
// SQLite type typ, by depth: for TEXT (JSON or JSON5) the colons outside
// strings and comments, as every key is followed by one; for a BLOB its
// nodes if SQLite takes it for JSONB, else as for TEXT; none for a number
// or NULL.
func jsonKeys(typ int32, v string) jsonKeyCounts {
	switch typ {
	case sqlite3.SQLITE_TEXT:
		return jsonTextColons(v)
	case sqlite3.SQLITE_BLOB:
		if !looksJSONB(v) {
			return jsonTextColons(v) // SQLite reads it as text
		}
		return jsonbNodes(v)
	}
	return jsonKeyCounts{}
}

// depthOf is the bucket of depth d.
func depthOf(d int) int { return min(max(d, 0), jsonDepths-1) }

// looksJSONB reports whether SQLite takes BLOB b for JSONB rather than
// text (its jsonArgIsJsonb, but for blobs of 8 bytes or fewer, which it
// also checks whole): its first node is of a type up to 12 (an object),
// a null, true or false only with nothing in it, and spans all of b.
func looksJSONB(b string) bool {
	if len(b) == 0 || b[0]&0x0f > 12 {
		return false
	}
	hdr, size, ok := jsonbHeader(b, 0, len(b))
	return ok && hdr+size == len(b) && (b[0]&0x0f > 2 || size == 0)
}

// jsonbHeader reads the header of the JSONB node at b[i] (its type in the
// low 4 bits; in the high 4, its payload's size up to 11, or 12 to 15 for
// a size in the next 1, 2, 4 or 8 bytes, big-endian), and returns its
// length and its payload's; false when the node does not end by limit.
func jsonbHeader(b string, i, limit int) (hdr, size int, ok bool) {
	h := int(b[i] >> 4)
	if h <= 11 {
		return 1, h, i+1+h <= limit
	}
	hdr = 1 + 1<<(h-12)
	if i+hdr > limit {
		return 0, 0, false
	}
	for _, c := range []byte(b[i+1 : i+hdr]) {
		if size > len(b) {
			return 0, 0, false // past b already: no shift may overflow
		}
		size = size<<8 | int(c)
	}
	return hdr, size, size <= len(b) && i+hdr+size <= limit
}

// jsonbNodes counts the nodes of JSONB b by depth, every key being one: a
// node is a header (jsonbHeader) and its payload, which for an array (11)
// or object (12) is its children. When a node does not fit in its container or in
// b, SQLite reads b as text, or as damaged JSONB: the bound is then the
// most b's bytes could hold, a key each, at any depth. The payloads of
// its TEXTJ and TEXT5 nodes are the bytes of its labels with an escape.
func jsonbNodes(b string) jsonKeyCounts {
	var n jsonKeyCounts
	var ends []int // the ends of the containers around i
	for i := 0; i < len(b); {
		for len(ends) > 0 && i >= ends[len(ends)-1] {
			ends = ends[:len(ends)-1]
		}
		limit := len(b)
		if len(ends) > 0 {
			limit = ends[len(ends)-1]
		}
		hdr, size, ok := jsonbHeader(b, i, limit)
		if !ok {
			return jsonKeyCounts{any: int64(len(b)), escAny: int64(len(b))}
		}
		end := i + hdr + size
		n.depth[depthOf(len(ends))]++
		t := b[i] & 0x0f
		if t == 8 || t == 9 { // TEXTJ, TEXT5: a string with escapes
			n.esc[depthOf(len(ends))] += int64(size)
		}
		if t == 11 || t == 12 {
			ends = append(ends, end)
			i += hdr
		} else {
			i = end
		}
	}
	return n
}

// jsonTextColons counts by depth the colons of JSON5 text s outside its
// strings ("..." and '...', with backslash escapes) and comments (// to
// the end of the line, /* to */), the depth being the brackets and braces
// open around them; and by depth the bytes of its strings and bare words
// (JSON5 identifiers, which may have \uXXXX escapes) with a backslash.
// Counting one too many is harmless, one too few is not: an unterminated
// string or comment ends the count where SQLite fails to parse.
func jsonTextColons(s string) jsonKeyCounts {
	var n jsonKeyCounts
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			// A bare word with an escape: all of it, either side.
			start, end := i, i
			for start > 0 && jsonWordByte(s[start-1]) {
				start--
			}
			for end < len(s) && jsonWordByte(s[end]) {
				end++
			}
			n.esc[depthOf(depth)] += int64(end - start)
			i = end - 1
		case ':':
			n.depth[depthOf(depth)]++
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"', '\'':
			start, escaped := i, false
			for i++; i < len(s) && s[i] != c; i++ {
				if s[i] == '\\' {
					escaped = true
					i++
				}
			}
			if escaped {
				n.esc[depthOf(depth)] += int64(min(i, len(s)) - start)
			}
		case '/':
			switch {
			case i+1 < len(s) && s[i+1] == '/':
				for i += 2; i < len(s) && s[i] != '\n'; i++ {
				}
			case i+1 < len(s) && s[i+1] == '*':
				for i += 2; i+1 < len(s) && (s[i] != '*' || s[i+1] != '/'); i++ {
				}
				i++
			}
		}
	}
	return n
}

// jsonWordByte reports whether byte c may be part of a JSON5 bare word
// (an identifier, with its escapes, or a number), or of a UTF-8
// character.
func jsonWordByte(c byte) bool {
	return c >= 0x80 || c == '\\' || c == '_' || c == '$' || c == '+' || c == '-' || c == '.' ||
		'0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// sqliteBuiltins is SQLite's table of its built-in functions
// (sqlite3BuiltinFunctions), whence json_patch's and jsonb_patch's
// definitions.
//
//go:linkname sqliteBuiltins modernc.org/sqlite/lib._sqlite3BuiltinFunctions
var sqliteBuiltins sqlite3.TFuncDefHash

// jsonPatchNames are the functions the guard stands in front of.
var jsonPatchNames = [...]string{"json_patch\x00", "jsonb_patch\x00"}

// jsonPatchGuardPtr is jsonPatchGuard as SQLite's C function pointer.
var jsonPatchGuardPtr = fp(jsonPatchGuard)

// sqliteFunc returns SQLite's own definition of built-in function name
// (with its NUL) of nArg arguments.
func sqliteFunc(name string, nArg int16) (*sqlite3.TFuncDef, error) {
	for _, d := range sqliteBuiltins.Fa {
		for ; d != 0; d = (*sqlite3.TFuncDef)(cptr(d)).Fu.FpHash {
			def := (*sqlite3.TFuncDef)(cptr(d))
			if def.FnArg == nArg && libc.GoString(def.FzName)+"\x00" == name {
				return def, nil
			}
		}
	}
	return nil, fmt.Errorf("SQLite has no built-in %s/%d", name[:len(name)-1], nArg)
}

// guardJSONPatch installs jsonPatchGuard as json_patch and jsonb_patch
// on connection db, each with the user data of SQLite's own (whether the
// result is JSONB, whence its parse cache) and, on its definition,
// SQLite's flags (SQLITE_FUNC_RUNONLY above all: the planner never calls
// it outside a statement, where its parse cache cannot live).
//
// # Errors
//
// When SQLite's own are not found, or SQLite refuses a function.
func guardJSONPatch(tls *libc.TLS, db uintptr) error {
	var owns [len(jsonPatchNames)]struct{ userData, fn uintptr }
	var defs [len(jsonPatchNames)]*sqlite3.TFuncDef
	for i, name := range jsonPatchNames {
		own, err := sqliteFunc(name, 2)
		if err != nil {
			return err
		}
		defs[i] = own
		owns[i].userData, owns[i].fn = own.FpUserData, own.FxSFunc
	}
	jsonPatchOwns.CompareAndSwap(nil, &owns)
	for i, name := range jsonPatchNames {
		flags := int32(sqlite3.SQLITE_UTF8 | sqlite3.SQLITE_DETERMINISTIC | sqlite3.SQLITE_INNOCUOUS)
		if defs[i].FfuncFlags&sqlite3.SQLITE_RESULT_SUBTYPE != 0 {
			flags |= sqlite3.SQLITE_RESULT_SUBTYPE
		}
		rc := sqlite3.Xsqlite3_create_function_v2(tls, db, cstrOf(name), 2, flags, defs[i].FpUserData, jsonPatchGuardPtr, 0, 0, 0)
		if rc != sqlite3.SQLITE_OK {
			return fmt.Errorf("install %s/2: %s", name[:len(name)-1], libc.GoString(sqlite3.Xsqlite3_errstr(tls, rc)))
		}
	}
	found := 0
	for def := range connFuncs(db, jsonPatchGuardPtr) {
		for _, own := range defs { // each has its own user data
			if own.FpUserData == def.FpUserData {
				def.FfuncFlags = own.FfuncFlags &^ sqlite3.SQLITE_FUNC_BUILTIN
				found++
			}
		}
	}
	if found != len(jsonPatchNames) {
		return fmt.Errorf("flag json_patch and jsonb_patch: found %d of %d", found, len(jsonPatchNames))
	}
	return nil
}

// errJSONPatchLost is the guard's failure when it cannot tell SQLite's
// function (never, as the user data is SQLite's).
const errJSONPatchLost = "json_patch: SQLite's function not found\x00"

// errJSONPatchBig is the guard's refusal.
const errJSONPatchBig = "json_patch: the patch and the target have too many keys together (split the patch, or patch a smaller object)\x00"

// jsonPatchGuard is json_patch(T, P) and jsonb_patch(T, P): SQLite's own
// (the function of the definition whose user data the call has), when
// the merge's work is within maxJSONPatchWork.
func jsonPatchGuard(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr) {
	if c := connOf(tls); c != nil && c.stopped() {
		sqlite3.Xsqlite3_result_error_code(tls, ctx, sqlite3.SQLITE_INTERRUPT)
		return
	}
	tt, target := sqlValueBytes(tls, sqlArg(argv, 0))
	pt, patch := sqlValueBytes(tls, sqlArg(argv, 1))
	if jsonPatchWork(jsonKeys(tt, target), int64(len(target)), jsonKeys(pt, patch), int64(len(patch))) > maxJSONPatchWork {
		sqlite3.Xsqlite3_result_error(tls, ctx, cstrOf(errJSONPatchBig), -1)
		sqlite3.Xsqlite3_result_error_code(tls, ctx, sqlite3.SQLITE_TOOBIG)
		return
	}
	own := jsonPatchOwn(sqlite3.Xsqlite3_user_data(tls, ctx))
	if own == 0 {
		sqlite3.Xsqlite3_result_error(tls, ctx, cstrOf(errJSONPatchLost), -1)
		return
	}
	(*(*func(*libc.TLS, uintptr, int32, uintptr))(unsafe.Pointer(&own)))(tls, ctx, argc, argv)
}

// jsonPatchOwn returns the function of SQLite's json_patch or jsonb_patch
// whose user data is userData, as guardJSONPatch found them, or 0.
func jsonPatchOwn(userData uintptr) uintptr {
	for _, o := range *jsonPatchOwns.Load() {
		if o.userData == userData {
			return o.fn
		}
	}
	return 0
}

// jsonPatchOwns are SQLite's json_patch and jsonb_patch, by user data.
var jsonPatchOwns atomic.Pointer[[len(jsonPatchNames)]struct{ userData, fn uintptr }]
