package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/warden-rpc/warden/abi"
)

// Error is a request that failed: the status the plugin gets and a message
// for last_error, which never holds the URL's query or a header.
type Error struct {
	Status abi.Status
	Msg    string
	// Detail, when not empty, is for the operator's log line, never for
	// the plugin: the special addresses a refused name resolved to.
	Detail string
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// refusedHeaders are request headers the host sets itself; a plugin that
// sets one gets BAD_ARGUMENT. Names starting with "Proxy-" are refused too.
var refusedHeaders = []string{"Host", "Content-Length", "Transfer-Encoding", "Connection", "Upgrade", "Te", "Trailer"}

// Do sends r under the client's grants and limits and returns the
// response. ctx is the plugin call's context: its deadline bounds the
// request, as does the request's own timeout, the plugin's configured one
// or r.TimeoutMS when shorter; a request that ends because ctx ended is
// CANCELLED. The request derives its context from ctx, so ctx must stay
// valid until Do returns and after (an ordinary context does).
//
// # Errors
//
// Every error is an *Error whose Status is what http_request returns (ABI.md
// section 3.9).
func (c *Client) Do(ctx context.Context, r abi.HTTPRequest) (abi.HTTPResponse, *Error) {
	start := time.Now()
	req, u, grant, e := c.newRequest(r)
	if e != nil {
		if e.Status == abi.StatusNotGranted {
			c.observe(NotGrantedLabel, 0)
		}
		return abi.HTTPResponse{}, e
	}
	timeout := c.cfg.Timeout
	if r.TimeoutMS > 0 {
		timeout = min(timeout, time.Duration(r.TimeoutMS)*time.Millisecond)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rctx = withRequest(rctx)
	res, e := c.send(ctx, rctx, req.WithContext(rctx), timeout)
	ev := c.log.Info()
	if ev != nil && c.cfg.AllowLine != nil && !c.cfg.AllowLine() {
		ev = ev.Discard()
	}
	ev = ev.Str("method", req.Method).Str("host", u.Host).Dur("duration", time.Since(start))
	if e != nil {
		ev = ev.Str("error", e.Status.String())
		if e.Detail != "" {
			ev = ev.Str("refused_addresses", e.Detail)
		}
		ev.Msg("outbound request failed")
		if e.Status == abi.StatusNotGranted { // a redirect hop or an address no grant allows
			grant = NotGrantedLabel
		}
		c.observe(grant, 0)
		return abi.HTTPResponse{}, e
	}
	ev.Int("status", res.Status).Int("bytes", len(res.Body)).Msg("outbound request")
	c.observe(grant, res.Status)
	return res, nil
}

// NotGrantedLabel is the grant an Observer is given for a request that no
// grant allowed.
const NotGrantedLabel = "(not granted)"

// observe tells the service's Observer, if any, of one request.
func (c *Client) observe(grant string, status int) {
	if o := c.s.cfg.Observer; o != nil {
		o.OutboundCall(c.cfg.Plugin, grant, status)
	}
}

// newRequest checks r's method, URL, headers and body against the ABI,
// the limits and the grants, and builds the request without a context. It
// also returns the grant that allows the URL.
func (c *Client) newRequest(r abi.HTTPRequest) (*http.Request, *url.URL, string, *Error) {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	switch {
	case len(r.URL) > abi.MaxURLBytes:
		return nil, nil, "", c.fail(abi.StatusLimitExceeded, "URL over %d bytes", abi.MaxURLBytes)
	case len(r.Headers) > abi.MaxOutboundHeaders:
		return nil, nil, "", c.fail(abi.StatusLimitExceeded, "more than %d headers", abi.MaxOutboundHeaders)
	case int64(len(r.Body)) > c.cfg.MaxRequestBytes:
		return nil, nil, "", c.fail(abi.StatusLimitExceeded, "body of %d bytes is over the plugin's max_request_bytes, %d", len(r.Body), c.cfg.MaxRequestBytes)
	case !abi.ValidToken(method):
		return nil, nil, "", c.fail(abi.StatusBadArgument, "method %q is not an HTTP token", method)
	case strings.EqualFold(method, http.MethodConnect):
		return nil, nil, "", c.fail(abi.StatusBadArgument, "method CONNECT would open a tunnel; it is not allowed")
	}
	u, err := url.Parse(r.URL)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return nil, nil, "", c.fail(abi.StatusBadArgument, "URL is not an absolute http:// or https:// URL")
	}
	t, ok := targetOf(u)
	switch {
	case t.scheme != "http" && t.scheme != "https":
		return nil, nil, "", c.fail(abi.StatusBadArgument, "URL scheme %q is not http or https", u.Scheme)
	case u.User != nil:
		return nil, nil, "", c.fail(abi.StatusBadArgument, "URL must not hold user info; send an Authorization header")
	case !ok:
		return nil, nil, "", c.fail(abi.StatusBadArgument, "URL host or port is not valid")
	}
	grant, ok := c.cfg.Policy.grantOf(t)
	if !ok {
		return nil, nil, "", c.notGranted(method, u, "")
	}
	u.Fragment, u.RawFragment = "", ""
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(r.Body))
	if err != nil {
		return nil, nil, "", c.fail(abi.StatusBadArgument, "bad request: %v", err)
	}
	for _, h := range r.Headers {
		name := http.CanonicalHeaderKey(h[0])
		switch {
		case !abi.ValidToken(h[0]) || !abi.ValidHeaderValue(h[1]):
			return nil, nil, "", c.fail(abi.StatusBadArgument, "header %q has an invalid name or value", h[0])
		case slices.Contains(refusedHeaders, name) || strings.HasPrefix(name, "Proxy-"):
			return nil, nil, "", c.fail(abi.StatusBadArgument, "header %s is set by the host", name)
		}
		req.Header.Add(name, h[1])
	}
	return req, u, grant, nil
}

// send waits for a slot, sends req and reads the response. callCtx is the
// plugin call's context, req's context is bounded by timeout too.
func (c *Client) send(callCtx, rctx context.Context, req *http.Request, timeout time.Duration) (abi.HTTPResponse, *Error) {
	if e := c.acquire(callCtx, rctx); e != nil {
		return abi.HTTPResponse{}, e
	}
	defer c.release()
	resp, err := c.hc.Do(req)
	if err != nil {
		return abi.HTTPResponse{}, c.classify(callCtx, rctx, req, err, timeout)
	}
	defer resp.Body.Close()
	max := c.cfg.MaxResponseBytes
	if resp.ContentLength > max && req.Method != http.MethodHead { // a HEAD's length is the resource's, not a body
		return abi.HTTPResponse{}, c.fail(abi.StatusLimitExceeded, "response body of %d bytes is over the plugin's max_response_bytes, %d", resp.ContentLength, max)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return abi.HTTPResponse{}, c.classify(callCtx, rctx, req, err, timeout)
	}
	if int64(len(body)) > max {
		return abi.HTTPResponse{}, c.fail(abi.StatusLimitExceeded, "response body is over the plugin's max_response_bytes, %d", max)
	}
	res := abi.HTTPResponse{Status: resp.StatusCode, Body: body}
	for _, k := range slices.Sorted(maps.Keys(resp.Header)) {
		for _, v := range resp.Header[k] {
			res.Headers = append(res.Headers, [2]string{strings.ToLower(k), v})
		}
	}
	return res, nil
}

// acquire takes a slot of the plugin's and one of the server's, waiting
// at most until rctx ends.
func (c *Client) acquire(callCtx, rctx context.Context) *Error {
	select {
	case c.slots <- struct{}{}:
	case <-rctx.Done():
		return c.waitError(callCtx)
	}
	select {
	case c.s.slots <- struct{}{}:
		return nil
	case <-rctx.Done():
		<-c.slots
		return c.waitError(callCtx)
	}
}

func (c *Client) release() {
	<-c.s.slots
	<-c.slots
}

func (c *Client) waitError(callCtx context.Context) *Error {
	if callCtx.Err() != nil {
		return c.fail(abi.StatusCancelled, "the call's deadline passed")
	}
	return c.fail(abi.StatusLimitExceeded, "too many outbound requests in flight (at most %d for this plugin, %d in all); none ended in time",
		cap(c.slots), cap(c.s.slots))
}

// classify turns the HTTP client's error into the plugin's status.
func (c *Client) classify(callCtx, rctx context.Context, req *http.Request, err error, timeout time.Duration) *Error {
	var rf *refusal
	var ue *url.Error
	hop := req.URL
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			hop = u
		}
		err = ue.Err
	}
	switch {
	case errors.As(err, &rf):
		e := c.notGranted(req.Method, hop, rf.why)
		e.Detail = rf.detail
		return e
	case errors.Is(err, errTooManyRedirects):
		return c.fail(abi.StatusHTTPFailed, "%s %s: %v", req.Method, redact(req.URL), err)
	case callCtx.Err() != nil:
		return c.fail(abi.StatusCancelled, "%s %s: the call's deadline passed", req.Method, redact(req.URL))
	case rctx.Err() != nil:
		return c.fail(abi.StatusHTTPFailed, "%s %s: timed out after %s", req.Method, redact(req.URL), timeout)
	}
	return c.fail(abi.StatusHTTPFailed, "%s %s: %v", req.Method, redact(hop), err)
}

func (c *Client) notGranted(method string, u *url.URL, why string) *Error {
	msg := fmt.Sprintf("http_request: %s %s not allowed by the grants of plugin %q", method, redact(u), c.cfg.Plugin)
	if why != "" {
		msg += ": " + why
	}
	return &Error{Status: abi.StatusNotGranted, Msg: msg}
}

func (c *Client) fail(s abi.Status, format string, args ...any) *Error {
	return &Error{Status: s, Msg: "http_request: " + fmt.Sprintf(format, args...)}
}
