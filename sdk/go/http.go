package warden

import (
	"strconv"

	"github.com/warden-rpc/warden/sdk/go/internal/sys"
)

// RegisterHTTP registers h to serve HTTP requests to pattern (httprouter
// syntax: "/hooks/:name", "/static/*path") for methods, a comma-separated
// list such as "GET,POST"; empty means GET, HEAD, POST, PUT, PATCH and
// DELETE (ABI 1.1). The payload is the request body and the output the
// response body; the request line, headers and route parameters are in the
// context, and SetStatus and AddHeader shape the response. Call it from the
// init function given to Init.
//
// # Errors
//
// As Register; a pattern that conflicts with the server's routes or another
// plugin's refuses the plugin at load instead.
func RegisterHTTP(pattern, methods string, h Handler) error {
	return register("http "+strconv.Quote(pattern), h, func(hid int32) int32 { return sys.HTTPRegister(pattern, methods, hid, 0) })
}

// RegisterHTTPSession is RegisterHTTP with SESSION_REQUIRED: the host
// answers 401 unless the request carries a valid session, and the user is
// in the context.
func RegisterHTTPSession(pattern, methods string, h Handler) error {
	return register("http "+strconv.Quote(pattern), h, func(hid int32) int32 {
		return sys.HTTPRegister(pattern, methods, hid, sys.FlagSessionRequired)
	})
}

// HTTPMethod returns an HTTP handler's request method.
func (c *Context) HTTPMethod() (string, bool) { return c.Get(KeyHTTPMethod) }

// HTTPPath returns an HTTP handler's request path, decoded.
func (c *Context) HTTPPath() (string, bool) { return c.Get(KeyHTTPPath) }

// HTTPRoute returns the pattern an HTTP handler registered.
func (c *Context) HTTPRoute() (string, bool) { return c.Get(KeyHTTPRoute) }

// RouteParam returns the value of a :name or *name route parameter.
func (c *Context) RouteParam(name string) (string, bool) { return c.Get(KeyRoutePrefix + name) }

// SetStatus sets an HTTP handler's response status (default 200).
//
// # Errors
//
// StatusBadArgument outside 200..599; StatusNotAllowed in an RPC.
func (c *Context) SetStatus(status int) error {
	if status < 0 || status > 1<<16 {
		return StatusBadArgument
	}
	return check(sys.OutputSetStatus(int32(status)))
}

// AddHeader adds a response header to an HTTP handler's response.
//
// # Errors
//
// StatusBadArgument for an invalid name or value or one the host manages
// (Content-Length...); StatusLimitExceeded past 64 headers or 8 KiB for
// one; StatusNotAllowed in an RPC.
func (c *Context) AddHeader(name, value string) error {
	return check(sys.OutputAddHeader(name, value))
}

// check returns nil for OK and the Status otherwise.
func check(st int32) error {
	if st == sys.OK {
		return nil
	}
	return Status(st)
}
