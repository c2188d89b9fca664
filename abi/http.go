package abi

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// RouteContentSecurityPolicy is the Content-Security-Policy header the host
// adds to every response of a plugin's HTTP handler (ABI.md, section 3.7).
// Plugin routes share their origin with Warden's web console and API, so a
// page a plugin serves runs sandboxed, in an opaque origin of its own: its
// scripts run, but they cannot use the console's session cookie, read or
// write the origin's storage, or install a service worker over it. A header
// the plugin adds itself only narrows this one, as browsers enforce every
// policy they are given.
const RouteContentSecurityPolicy = "sandbox allow-downloads allow-forms allow-modals allow-popups allow-scripts"

// ReservedPathPrefix is where Warden's own pages and endpoints live (the
// web console, plugin deploys): no plugin route may be served under it, and
// no cookie a plugin route sets may be scoped to it (ABI.md, section 3.7).
const ReservedPathPrefix = "/_warden/"

// ReservedCookiePrefix starts the names of Warden's own cookies (the web
// console's session): a plugin route may not set a cookie whose name
// starts with it, in any case (ABI.md, section 3.7).
const ReservedCookiePrefix = "warden_"

// HTTPRequest is the argument of http_request (ABI.md section 4.4):
// method, URL, headers, body and timeout in milliseconds (0: the plugin's
// configured timeout).
type HTTPRequest struct {
	Method    string
	URL       string
	Headers   [][2]string
	Body      []byte
	TimeoutMS uint32
}

// HTTPResponse is the result of http_request (ABI.md section 4.4): status,
// headers (names lower-cased, one pair per value) and body.
type HTTPResponse struct {
	Status  int
	Headers [][2]string
	Body    []byte
}

// EncodeHTTPRequest encodes r as a guest passes it to http_request.
func EncodeHTTPRequest(r HTTPRequest) []byte {
	out := appendBytes(nil, []byte(r.Method))
	out = appendBytes(out, []byte(r.URL))
	out = appendPairs(out, r.Headers)
	out = appendBytes(out, r.Body)
	return binary.LittleEndian.AppendUint32(out, r.TimeoutMS)
}

// DecodeHTTPRequest decodes an http_request argument. The strings are
// copies; Body aliases b.
//
// # Errors
//
// It fails on truncated input or trailing bytes.
func DecodeHTTPRequest(b []byte) (HTTPRequest, error) {
	var r HTTPRequest
	method, rest, err := readBytes(b)
	if err != nil {
		return r, fmt.Errorf("method: %w", err)
	}
	url, rest, err := readBytes(rest)
	if err != nil {
		return r, fmt.Errorf("url: %w", err)
	}
	if r.Headers, rest, err = readPairs(rest); err != nil {
		return r, fmt.Errorf("headers: %w", err)
	}
	if r.Body, rest, err = readBytes(rest); err != nil {
		return r, fmt.Errorf("body: %w", err)
	}
	if r.TimeoutMS, rest, err = readU32(rest); err != nil {
		return r, fmt.Errorf("timeout_ms: %w", err)
	}
	if len(rest) != 0 {
		return r, errTrail
	}
	r.Method, r.URL = string(method), string(url)
	return r, nil
}

// AppendHTTPResponse appends the encoding of r to dst.
func AppendHTTPResponse(dst []byte, r HTTPResponse) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(r.Status))
	dst = appendPairs(dst, r.Headers)
	return appendBytes(dst, r.Body)
}

// DecodeHTTPResponse decodes an http_request result. Body aliases b.
//
// # Errors
//
// It fails on truncated input or trailing bytes.
func DecodeHTTPResponse(b []byte) (HTTPResponse, error) {
	var r HTTPResponse
	status, rest, err := readU32(b)
	if err != nil {
		return r, fmt.Errorf("status: %w", err)
	}
	if r.Headers, rest, err = readPairs(rest); err != nil {
		return r, fmt.Errorf("headers: %w", err)
	}
	if r.Body, rest, err = readBytes(rest); err != nil {
		return r, fmt.Errorf("body: %w", err)
	}
	if len(rest) != 0 {
		return r, errTrail
	}
	r.Status = int(status)
	return r, nil
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

func appendPairs(dst []byte, pairs [][2]string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(pairs)))
	for _, p := range pairs {
		dst = appendBytes(dst, []byte(p[0]))
		dst = appendBytes(dst, []byte(p[1]))
	}
	return dst
}

// readPairs reads a map (section 4.3) from the front of b.
func readPairs(b []byte) ([][2]string, []byte, error) {
	n, rest, err := readU32(b)
	if err != nil {
		return nil, b, err
	}
	if uint64(n)*8 > uint64(len(rest)) {
		return nil, b, fmt.Errorf("count %d: %w", n, errTooMany)
	}
	pairs := make([][2]string, n)
	for i := range pairs {
		var k, v []byte
		if k, rest, err = readBytes(rest); err != nil {
			return nil, b, fmt.Errorf("key %d: %w", i, err)
		}
		if v, rest, err = readBytes(rest); err != nil {
			return nil, b, fmt.Errorf("value %d: %w", i, err)
		}
		pairs[i] = [2]string{string(k), string(v)}
	}
	return pairs, rest, nil
}

// ValidToken reports whether s is an HTTP token (RFC 9110), as a method or
// a header name must be (output_add_header, http_request).
func ValidToken[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// ValidHeaderValue reports whether v may be a header value: no control
// characters but tab.
func ValidHeaderValue[T string | []byte](v T) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
