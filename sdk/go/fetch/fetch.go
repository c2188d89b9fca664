// Package fetch sends outbound HTTP requests from a plugin (ABI 1.2,
// http_request), to the URLs its operator grants in the manifest NAME.toml
// beside NAME.wasm:
//
//	[http]
//	allow = ["https://api.example.com", "http://127.0.0.1:*"]
//
// Anything else fails with warden.StatusNotGranted before a connection is
// made, and so does a redirect to a URL, or a name that resolves to an
// address, the grants do not allow.
//
//	res, err := fetch.Get("https://api.example.com/items/7")
//	if err != nil {
//		return nil, err // *fetch.Error: NOT_GRANTED, HTTP_FAILED, ...
//	}
//	if res.Status == 200 { kind := res.Header("content-type") }
//	res, err = fetch.Post("https://api.example.com/items", "application/json", body)
//	res, err = fetch.Request("PUT", url, []fetch.Header{{"Authorization", "Bearer t"}}, body, 2*time.Second)
//
// A 4xx or 5xx answer is a Response: its Status tells. An error means
// there was no answer; a handler that returns one fails with the code
// Error.Code gives.
package fetch

import (
	"strings"
	"time"

	warden "github.com/warden-rpc/warden/sdk/go"
	"github.com/warden-rpc/warden/sdk/go/internal/sys"
	"github.com/warden-rpc/warden/sdk/go/internal/wire"
)

// Header is one request or response header; a repeated name has one
// Header per value.
type Header struct {
	Name, Value string
}

// Response is the answer to an outbound request. Header names are
// lower-cased by the host, in the order received.
type Response struct {
	Status  int
	Headers []Header
	Body    []byte
}

// Header returns the first value of header name, which is
// case-insensitive, or "" when there is none.
func (r *Response) Header(name string) string {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Values returns every value of header name, which is case-insensitive,
// in the order received.
func (r *Response) Values(name string) []string {
	var vs []string
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			vs = append(vs, h.Value)
		}
	}
	return vs
}

// Error is an outbound request that got no response: the host's status
// and message. It wraps the Status, so that
// errors.Is(err, warden.StatusNotGranted) tells a refused URL.
type Error struct {
	Status  warden.Status
	Message string
}

// Error implements error: "NOT_GRANTED: http_request: GET ... not allowed ...".
func (e *Error) Error() string { return e.Status.String() + ": " + e.Message }

// Unwrap returns the Status, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Status }

// Code returns the code a handler fails with when it returns e:
// PermissionDenied for NOT_GRANTED, Unavailable for HTTP_FAILED,
// DeadlineExceeded for CANCELLED, ResourceExhausted for LIMIT_EXCEEDED,
// and Internal otherwise (a bad request is the plugin's bug).
func (e *Error) Code() warden.Code {
	switch e.Status {
	case warden.StatusNotGranted:
		return warden.CodePermissionDenied
	case warden.StatusHTTPFailed:
		return warden.CodeUnavailable
	case warden.StatusCancelled:
		return warden.CodeDeadlineExceeded
	case warden.StatusLimitExceeded:
		return warden.CodeResourceExhausted
	}
	return warden.CodeInternal
}

// As makes errors.As(err, &rpcErr) with a **warden.Error see e as the
// handler's error, with Code and e's text, so a handler that returns e
// fails with that code.
func (e *Error) As(target any) bool {
	if p, ok := target.(**warden.Error); ok {
		*p = warden.NewError(e.Error(), e.Code())
		return true
	}
	return false
}

// fromStatus returns the Error for a failed http_request, with the host's message.
func fromStatus(st int64) *Error {
	s, msg := sys.Failure(st)
	if msg == "" {
		msg = warden.Status(s).String()
	}
	return &Error{Status: warden.Status(s), Message: msg}
}

// Request sends an HTTP request and returns the response. method is an
// HTTP token such as "GET" (empty means GET); url is absolute (http:// or
// https://); headers are sent in order, a name once per value; a timeout
// above 0 shortens the plugin's configured timeout (0 keeps it), and the
// call's deadline bounds both.
//
// # Errors
//
// An *Error with warden.StatusNotGranted (the grants do not allow the
// URL), StatusHTTPFailed (no response), StatusCancelled,
// StatusLimitExceeded, StatusBadArgument (a bad method, URL or header, or
// one the host manages such as Host or Content-Length), StatusNotAllowed
// (in init); StatusInternal when the response cannot be decoded.
func Request(method, url string, headers []Header, body []byte, timeout time.Duration) (*Response, error) {
	b, st := sys.TakeResult(sys.HTTPRequest(encodeRequest(method, url, headers, body, timeoutMS(timeout))))
	if st != int64(sys.OK) {
		return nil, fromStatus(st)
	}
	res, err := decodeResponse(b)
	if err != nil {
		return nil, &Error{Status: warden.StatusInternal, Message: "decode http_request response: " + err.Error()}
	}
	return res, nil
}

// Get sends a GET request to url, with no headers.
//
// # Errors
//
// As Request.
func Get(url string) (*Response, error) { return Request("GET", url, nil, nil, 0) }

// Post sends a POST request to url with body and its Content-Type.
//
// # Errors
//
// As Request.
func Post(url, contentType string, body []byte) (*Response, error) {
	return Request("POST", url, []Header{{"Content-Type", contentType}}, body, 0)
}

// timeoutMS converts a timeout for the wire: 0 or less is 0 (the plugin's
// configured timeout); anything else is at least 1 ms and at most
// 2^32-1 ms.
func timeoutMS(d time.Duration) uint32 {
	switch {
	case d <= 0:
		return 0
	case d < time.Millisecond:
		return 1
	case d.Milliseconds() > 1<<32-1:
		return 1<<32 - 1
	}
	return uint32(d.Milliseconds())
}

// encodeRequest encodes an http_request request: method, url, headers
// (a map), body, timeout_ms.
func encodeRequest(method, url string, headers []Header, body []byte, timeoutMS uint32) []byte {
	b := make([]byte, 0, 20+len(method)+len(url)+len(body)+64*len(headers))
	b = wire.AppendString(b, method)
	b = wire.AppendString(b, url)
	pairs := make([]wire.Pair, len(headers))
	for i, h := range headers {
		pairs[i] = wire.Pair{Key: h.Name, Value: h.Value}
	}
	b = wire.AppendMap(b, pairs)
	b = wire.AppendBytes(b, body)
	return wire.AppendU32(b, timeoutMS)
}

// decodeResponse decodes an http_request response: status:u32,
// headers:map, blen:u32 body.
func decodeResponse(b []byte) (*Response, error) {
	r := wire.NewReader(b)
	st, err := r.U32()
	if err != nil {
		return nil, err
	}
	pairs, err := r.Map()
	if err != nil {
		return nil, err
	}
	body, err := r.Bytes()
	if err != nil {
		return nil, err
	}
	if err := r.Finish(); err != nil {
		return nil, err
	}
	res := &Response{Status: int(st), Headers: make([]Header, len(pairs)), Body: body}
	for i, p := range pairs {
		res.Headers[i] = Header{p.Key, p.Value}
	}
	return res, nil
}
