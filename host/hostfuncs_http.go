package host

import (
	"bytes"
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

// managedHeaders are response headers only the host sets, or that no
// plugin may set because they reach past its own routes to the whole
// origin, which the web console shares: Service-Worker-Allowed would let a
// worker a plugin serves control every path; Clear-Site-Data would wipe
// the origin's cookies and storage, the console's session included;
// Strict-Transport-Security would end or set the origin's HTTPS policy;
// Alt-Svc would name another server for the origin; NEL, Report-To and
// Reporting-Endpoints would send reports of the origin's requests to a
// place the plugin chose. Hop-by-hop headers (Connection, Keep-Alive,
// Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade) are the connection's,
// which the host keeps. A reverse proxy in front of Warden acts on some
// response headers: nginx's X-Accel-Redirect serves another of its
// locations, internal ones included, and Apache's and lighttpd's
// X-Sendfile (X-Lighttpd-Send-File) a file from the proxy's disk, so a
// plugin could read what the proxy guards. Names are canonical
// (http.CanonicalHeaderKey).
var managedHeaders = []string{"Alt-Svc", "Clear-Site-Data", "Connection", "Content-Length", "Keep-Alive", "Nel",
	"Report-To", "Reporting-Endpoints", "Service-Worker-Allowed", "Strict-Transport-Security", "Te", "Trailer",
	"Transfer-Encoding", "Upgrade", "Warden-Plugin"}

// managedPrefixes are families of response headers a reverse proxy acts
// on, which a plugin may not send whatever their next word: Apache's
// X-Sendfile-Temporary deletes the file it sends, Envoy's
// X-Envoy-Immediate-Health-Check-Fail takes the whole node out of its
// pool, Proxy-Status and the other Proxy- headers are the proxy's own,
// and the X-Accel- family is nginx's. Canonical (http.CanonicalHeaderKey).
var managedPrefixes = []string{"Proxy-", "X-Accel-", "X-Envoy-", "X-Lighttpd-", "X-Sendfile"}

// managedHeader reports whether the canonical header name is the host's
// (managedHeaders, managedPrefixes).
func managedHeader(name string) bool {
	if slices.Contains(managedHeaders, name) {
		return true
	}
	for _, p := range managedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

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
	name, known := commonHeader(k)
	if !known {
		name = http.CanonicalHeaderKey(string(k))
	}
	if (!known && (!abi.ValidToken(name) || managedHeader(name))) || !abi.ValidHeaderValue(v) {
		status(stack, st.fail(abi.StatusBadArgument, "invalid or host-managed header "+name))
		return
	}
	if name == "Set-Cookie" && reservedCookie(v) {
		status(stack, st.fail(abi.StatusBadArgument, "a cookie with no name, named "+abi.ReservedCookiePrefix+"…, scoped to "+abi.ReservedPathPrefix+" or with a Domain is refused"))
		return
	}
	value, known := commonValue(v)
	if !known {
		value = string(v)
	}
	if st.headers == nil {
		st.headers = st.req.HTTP.headerRoom[:0]
	}
	st.headers = append(st.headers, [2]string{name, value})
	status(stack, abi.StatusOK)
}

// reservedCookie reports whether the Set-Cookie value v would set one of
// Warden's cookies or reach Warden's own paths: its name starts with
// abi.ReservedCookiePrefix, or its Path attribute is under
// abi.ReservedPathPrefix, in any case; or it has no name, and the browser
// would send its value as if it were one. Plugin routes share their origin
// with the web console, so such a cookie could sign the operator out, or
// keep them out: the browser sends the cookie with the longer path first.
// It also reports a cookie with a Domain attribute, which would reach past
// the origin to every host of that domain (cookie tossing: a session
// fixed, or a sibling site's requests made too large to serve); a cookie
// without one is the request's host's alone.
func reservedCookie(v []byte) bool {
	pair, attrs, _ := bytes.Cut(v, []byte(";"))
	name, _, eq := bytes.Cut(pair, []byte("="))
	if name = bytes.TrimSpace(name); !eq || len(name) == 0 || hasPrefixFold(name, abi.ReservedCookiePrefix) {
		// A cookie with no name is sent as its value alone (RFC
		// 6265bis), which reads as a cookie named by that value.
		return true
	}
	dir := strings.TrimSuffix(abi.ReservedPathPrefix, "/")
	for len(attrs) > 0 {
		var attr []byte
		attr, attrs, _ = bytes.Cut(attrs, []byte(";"))
		key, val, _ := bytes.Cut(bytes.TrimSpace(attr), []byte("="))
		key = bytes.TrimSpace(key)
		if bytes.EqualFold(key, []byte("Domain")) {
			// A Domain, even the request's own host, scopes the cookie
			// to every host under it: the operator's other sites.
			return true
		}
		if !bytes.EqualFold(key, []byte("Path")) {
			continue
		}
		// A cookie's path reaches /_warden/... when it is /_warden or
		// below it (RFC 6265, 5.1.4); the browser compares paths
		// case-sensitively, but no case of it is left to a plugin.
		if p := bytes.TrimSpace(val); hasPrefixFold(p, dir) && (len(p) == len(dir) || p[len(dir)] == '/') {
			return true
		}
	}
	return false
}

// hasPrefixFold reports whether b starts with the ASCII prefix, in any
// case.
func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// commonHeader returns the canonical form of k when k is a common
// response header name, canonical or in lower case, and commonValue
// returns v as a constant string when v is a common value: a handler that
// sends them costs no string copies.
//
// # Notes
//
// A switch on string(k) neither copies k nor hashes it: the compiler
// compares lengths first, then the few names of k's length. Every route
// call that sets a header asks. The two map lookups this replaces took
// about 0.2 µs a call on a slow VM (perf), and output_add_header went from
// 909 to 648 instructions a call (callgrind, BenchmarkHost_CallRoute;
// docs/benchmarks.md, "Issue 12, twelfth pass"). TestCommonHeaders holds
// both to their lists.
func commonHeader(k []byte) (string, bool) {
	switch string(k) {
	case "Access-Control-Allow-Headers", "access-control-allow-headers":
		return "Access-Control-Allow-Headers", true
	case "Access-Control-Allow-Methods", "access-control-allow-methods":
		return "Access-Control-Allow-Methods", true
	case "Access-Control-Allow-Origin", "access-control-allow-origin":
		return "Access-Control-Allow-Origin", true
	case "Cache-Control", "cache-control":
		return "Cache-Control", true
	case "Content-Disposition", "content-disposition":
		return "Content-Disposition", true
	case "Content-Encoding", "content-encoding":
		return "Content-Encoding", true
	case "Content-Language", "content-language":
		return "Content-Language", true
	case "Content-Type", "content-type":
		return "Content-Type", true
	case "Etag", "etag":
		return "Etag", true
	case "Expires", "expires":
		return "Expires", true
	case "Last-Modified", "last-modified":
		return "Last-Modified", true
	case "Location", "location":
		return "Location", true
	case "Set-Cookie", "set-cookie":
		return "Set-Cookie", true
	case "Vary", "vary":
		return "Vary", true
	}
	return "", false
}

// commonValue: see commonHeader.
func commonValue(v []byte) (string, bool) {
	switch string(v) {
	case "application/json":
		return "application/json", true
	case "application/json; charset=utf-8":
		return "application/json; charset=utf-8", true
	case "application/octet-stream":
		return "application/octet-stream", true
	case "no-cache":
		return "no-cache", true
	case "no-store":
		return "no-store", true
	case "text/html; charset=utf-8":
		return "text/html; charset=utf-8", true
	case "text/plain; charset=utf-8":
		return "text/plain; charset=utf-8", true
	case "*":
		return "*", true
	}
	return "", false
}
