package host

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/api"

	"github.com/warden-rpc/warden/abi"
)

// httpRegister: (pattern_ptr, pattern_len, methods_ptr, methods_len,
// handler_id, flags) -> status. Records a custom HTTP route.
func httpRegister(_ context.Context, st *callState, m api.Memory, stack []uint64) {
	pn, mn, flags := u32(stack, 1), u32(stack, 3), abi.RegisterFlag(i32(stack, 5))
	if pn == 0 || pn > abi.MaxPatternBytes || mn > abi.MaxMethodsBytes {
		status(stack, st.fail(abi.StatusBadArgument, "pattern must be 1..1024 bytes, methods at most 256"))
		return
	}
	pb, ok1 := guestRead(m, u32(stack, 0), pn)
	pattern := string(pb)
	mb, ok2 := guestRead(m, u32(stack, 2), mn)
	if !ok1 || !ok2 {
		status(stack, st.fail(abi.StatusInvalidMemory, "pattern or methods out of bounds"))
		return
	}
	methods, ok := parseMethods(string(mb))
	if !ok || !utf8.ValidString(pattern) || pattern[0] != '/' || flags&^abi.FlagSessionRequired != 0 {
		status(stack, st.fail(abi.StatusBadArgument, "pattern must start with /, methods be HTTP methods, flags SESSION_REQUIRED"))
		return
	}
	routes := 0
	for _, r := range st.regs {
		if r.HTTP && r.ID == pattern && overlaps(r.Methods, methods) {
			status(stack, st.fail(abi.StatusAlreadyExists, "route "+pattern+" is registered already"))
			return
		}
		if r.HTTP {
			routes++
		}
	}
	if routes >= abi.MaxRoutesPerPlugin {
		status(stack, st.fail(abi.StatusLimitExceeded, "too many routes"))
		return
	}
	st.regs = append(st.regs, registration{HTTP: true, ID: pattern, Methods: methods, HandlerID: i32(stack, 4), Flags: flags})
	status(stack, abi.StatusOK)
}

// outputSetStatus: (status) -> status. Sets an HTTP handler's status.
func outputSetStatus(_ context.Context, st *callState, _ api.Memory, stack []uint64) {
	code := i32(stack, 0)
	switch {
	case st.req.HTTP == nil:
		status(stack, st.fail(abi.StatusNotAllowed, "output_set_status is for HTTP handlers"))
	case code < 200 || code > 599:
		status(stack, st.fail(abi.StatusBadArgument, "status must be 200..599"))
	default:
		st.status = int(code)
		status(stack, abi.StatusOK)
	}
}

// managedHeaders are response headers only the host sets.
var managedHeaders = []string{"Connection", "Content-Length", "Transfer-Encoding", "Warden-Plugin"}

// outputAddHeader: (name_ptr, name_len, value_ptr, value_len) -> status.
// Adds a response header to an HTTP handler's response.
func outputAddHeader(_ context.Context, st *callState, m api.Memory, stack []uint64) {
	kn, vn := u32(stack, 1), u32(stack, 3)
	switch {
	case st.req.HTTP == nil:
		status(stack, st.fail(abi.StatusNotAllowed, "output_add_header is for HTTP handlers"))
		return
	case uint64(kn)+uint64(vn) > abi.MaxHeaderBytes || len(st.headers) >= abi.MaxResponseHeaders:
		status(stack, st.fail(abi.StatusLimitExceeded, "header too large or too many headers"))
		return
	}
	k, ok1 := guestRead(m, u32(stack, 0), kn)
	v, ok2 := guestRead(m, u32(stack, 2), vn)
	if !ok1 || !ok2 {
		status(stack, st.fail(abi.StatusInvalidMemory, "header out of bounds"))
		return
	}
	name, known := commonHeaders[string(k)] // a lookup that does not copy k
	if !known {
		name = http.CanonicalHeaderKey(string(k))
	}
	if (!known && (!abi.ValidToken(name) || slices.Contains(managedHeaders, name))) || !abi.ValidHeaderValue(v) {
		status(stack, st.fail(abi.StatusBadArgument, "invalid or host-managed header "+name))
		return
	}
	value, known := commonValues[string(v)]
	if !known {
		value = string(v)
	}
	if st.headers == nil {
		st.headers = st.req.HTTP.headerRoom[:0]
	}
	st.headers = append(st.headers, [2]string{name, value})
	status(stack, abi.StatusOK)
}

// commonHeaders maps common response header names, canonical and lower
// case, to their canonical form, and commonValues holds common values: a
// handler that sends them costs no string copies.
var commonHeaders, commonValues = map[string]string{}, map[string]string{}

func init() {
	for _, n := range []string{"Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
		"Access-Control-Allow-Origin", "Cache-Control", "Content-Disposition", "Content-Encoding",
		"Content-Language", "Content-Type", "Etag", "Expires", "Last-Modified", "Location",
		"Set-Cookie", "Vary"} {
		commonHeaders[n], commonHeaders[strings.ToLower(n)] = n, n
	}
	for _, v := range []string{"application/json", "application/json; charset=utf-8",
		"application/octet-stream", "no-cache", "no-store", "text/html; charset=utf-8",
		"text/plain; charset=utf-8", "*"} {
		commonValues[v] = v
	}
}
