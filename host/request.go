package host

import (
	"fmt"
	"net/url"
	"time"

	"github.com/warden-rpc/warden/abi"
)

// Request is one RPC call as the HTTP API hands it to the host.
type Request struct {
	// ID is the RPC id as the client sent it; the host lowercases it.
	ID string
	// Payload is the call's input.
	Payload []byte
	// User is the caller, or nil for a server-to-server call.
	User *User
	// Headers are the request headers, in Go canonical form, without
	// Authorization.
	Headers map[string][]string
	// Query holds the query parameters, without http_key. When it is nil,
	// the host parses RawQuery into it the first time a plugin reads the
	// query (url.ParseQuery's rules): most calls never do, and the map
	// would be built for nothing.
	Query map[string][]string
	// RawQuery is the encoded query string, without http_key, used when
	// Query is nil.
	RawQuery string
	// ClientIP and ClientPort are the client's address.
	ClientIP, ClientPort string
	// Trace gives the trace ID that identifies the request in logs and
	// to plugins (see TraceID); nil when the request has none.
	Trace Tracer
	// HTTP is set for a custom HTTP handler's call, and nil for an RPC.
	HTTP *HTTPRequest
	// Start, when set, is a clock reading (with its monotonic part) taken
	// just before the call, from which the call's deadline runs; when it
	// is zero, the host reads the clock itself. A caller that has just
	// read the clock spares the call a read of its own.
	Start time.Time
}

// Tracer gives a request's trace ID. It may make the ID the first time it
// is asked, so that a request that no log line and no plugin asks about
// makes none, but it must give the same ID every time.
type Tracer interface {
	TraceID() string
}

// TraceID is a Tracer that is its own ID, for callers that have one.
type TraceID string

// TraceID returns t.
func (t TraceID) TraceID() string { return string(t) }

// TraceID returns the request's trace ID, or "" when it has none.
func (r *Request) TraceID() string {
	if r.Trace == nil {
		return ""
	}
	return r.Trace.TraceID()
}

// QueryParams returns the query parameters that plugins see: Query,
// parsed from RawQuery on first use. Like the rest of a Request, it is not
// safe for concurrent use.
func (r *Request) QueryParams() map[string][]string {
	if r.Query == nil {
		r.Query, _ = url.ParseQuery(r.RawQuery) // the pairs that parse, as URL.Query
	}
	return r.Query
}

// HTTPRequest is what a custom HTTP handler sees of the request line.
type HTTPRequest struct {
	Method string
	// Path is the request path, decoded.
	Path string
	// Route is the pattern that matched.
	Route string
	// Params are the route parameters, in pattern order.
	Params [][2]string

	// headerRoom holds the first response header the handler adds, so
	// that a handler which sets one (most set Content-Type alone) costs no
	// allocation: the Result's Headers share it. A request whose
	// HTTPRequest is part of a per-request allocation (as httpapi's is)
	// pays nothing more.
	headerRoom [1][2]string
}

// User is the authenticated caller of a Request.
type User struct {
	ID       string
	Username string
	Vars     map[string]string
	// Expiry is the session's expiry in Unix seconds.
	Expiry int64
}

// Result is the outcome of a successful call.
type Result struct {
	// Output is what the plugin wrote.
	Output []byte
	// Plugin and Version name the plugin version that served the call.
	Plugin, Version string
	// Status and Headers are what a custom HTTP handler set: Status is 0
	// for an RPC, and 200 when a handler set none. Headers may share
	// memory with the Request's HTTPRequest, which must therefore not be
	// reused for another call while they are in use.
	Status  int
	Headers [][2]string
}

// CallError is the error of a failed call. Refused says where it comes
// from: from the plugin, which ran and failed (Refused is NotRefused), or
// from the host, which refused the call before any plugin code ran. Code is
// the code the client sees (ABI.md section 5). Message is the plugin's
// message, or the host's account of its trap, panic or deadline; a refusal
// has none, since the API that answers the client words it.
type CallError struct {
	Code    abi.Code
	Refused Refusal
	Message string
	// Plugin and Version name the plugin version that serves the call: the
	// one that failed, or the one the host refused to run. They are empty
	// when no plugin serves it (RefusedNotFound) or the host is closing.
	Plugin  string
	Version string
	// Err is the underlying cause, for logs; it never reaches clients.
	Err error
}

// Error implements error.
func (e *CallError) Error() string {
	msg := e.Message
	if e.Refused != NotRefused {
		msg = e.Refused.String()
	}
	if e.Plugin != "" {
		return fmt.Sprintf("plugin %s@%s: code %d: %s", e.Plugin, e.Version, e.Code, msg)
	}
	return fmt.Sprintf("code %d: %s", e.Code, msg)
}

// Refusal says why the host refused a call before any plugin code ran.
type Refusal uint8

// Refusals. The zero value, NotRefused, marks a plugin's own failure.
const (
	// NotRefused: the plugin ran and failed, with the code and message it
	// set, or with a trap, panic or deadline.
	NotRefused Refusal = iota
	// RefusedNotFound: no plugin serves the RPC id or HTTP route (code 5).
	RefusedNotFound
	// RefusedClosing: the host is closing (code 14).
	RefusedClosing
	// RefusedServerOnly: a call that carries a user ID to an RPC registered
	// with FlagServerOnly (code 7).
	RefusedServerOnly
	// RefusedCoolingDown: the plugin's circuit breaker is open after
	// repeated crashes (code 14).
	RefusedCoolingDown
	// RefusedReplaced: a reload retired the plugin version of the HTTP
	// route called, after the request was routed to it (code 14). The
	// caller routes the request again (Host.CallRoute).
	RefusedReplaced
)

// String names the refusal, for logs.
func (r Refusal) String() string {
	switch r {
	case NotRefused:
		return "not refused"
	case RefusedNotFound:
		return "no plugin serves the call"
	case RefusedClosing:
		return "host is closing"
	case RefusedServerOnly:
		return "server-only rpc called with a user"
	case RefusedCoolingDown:
		return "plugin is cooling down after repeated crashes"
	case RefusedReplaced:
		return "a reload replaced the route's plugin version"
	}
	return fmt.Sprintf("refusal(%d)", uint8(r))
}

// Unwrap returns the underlying cause.
func (e *CallError) Unwrap() error { return e.Err }
