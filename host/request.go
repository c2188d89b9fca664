package host

import (
	"fmt"

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
	// Query holds the query parameters, without http_key.
	Query map[string][]string
	// ClientIP and ClientPort are the client's address.
	ClientIP, ClientPort string
	// TraceID identifies the request in logs.
	TraceID string
	// HTTP is set for a custom HTTP handler's call, and nil for an RPC.
	HTTP *HTTPRequest
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
	// for an RPC, and 200 when a handler set none.
	Status  int
	Headers [][2]string
}

// CallError is the error of a failed call: the code and message that the
// client sees, and the plugin version that produced it when one ran.
type CallError struct {
	Code    abi.Code
	Message string
	Plugin  string
	Version string
	// Err is the underlying cause, for logs; it never reaches clients.
	Err error
}

// Error implements error.
func (e *CallError) Error() string {
	if e.Plugin != "" {
		return fmt.Sprintf("plugin %s@%s: code %d: %s", e.Plugin, e.Version, e.Code, e.Message)
	}
	return fmt.Sprintf("code %d: %s", e.Code, e.Message)
}

// Unwrap returns the underlying cause.
func (e *CallError) Unwrap() error { return e.Err }
