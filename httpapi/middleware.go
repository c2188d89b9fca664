package httpapi

import (
	"fmt"
	"log"
	"math"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unsafe"

	"github.com/julienschmidt/httprouter"
	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/session"
)

// CORS settings are Nakama's: gorilla/handlers CORS allowing origin *,
// the headers Authorization, Content-Type and User-Agent, and the methods
// GET, HEAD, POST, PUT and DELETE. Simple methods and headers are always
// allowed and never echoed in preflight answers, as in gorilla/handlers.

func corsMethodAllowed(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE":
		return true
	}
	return false
}

func corsSimpleMethod(m string) bool { return m == "GET" || m == "HEAD" || m == "POST" }

func corsHeaderAllowed(h string) bool {
	return h == "Authorization" || h == "Content-Type" || h == "User-Agent"
}

func corsSimpleHeader(h string) bool {
	switch h {
	case "Accept", "Accept-Language", "Content-Language", "Origin":
		return true
	}
	return false
}

// requestInfo is what the middleware and the handlers share about a
// request.
type requestInfo struct {
	// trace holds the request's trace ID, which identifies it: req_id in
	// logs, trace_id for plugins. It is made the first time TraceID is
	// asked (traced says whether it was): a request that logs nothing
	// and whose plugin never asks makes none.
	trace  [36]byte
	traced bool
	// plugin is the plugin version that answered, for the logs.
	plugin string
	// srv is the server: its logger, whose events get req_id and
	// remote_addr added (see event), so that no request copies a logger,
	// and its prebuilt plugin header values.
	srv *Server
	// start is when the middleware began the request, as time since
	// srv.epoch: one monotonic clock read (time.Since), where time.Now
	// reads the wall clock too; a clock read costs 35-150 ns on a VM. It
	// is read only for the access log or a request with a body (see
	// readPayload), and timed says whether it was.
	start time.Duration
	timed bool
	// bodyRead is when the request's body was read, as start is, or 0:
	// the slow-body check's reading (see restartWriteDeadline), which also
	// starts the plugin call that follows, so that the call reads the
	// clock neither for its deadline nor for the observer (see startCall).
	bodyRead time.Duration
	// attemptTaken says that the request's authentication attempt was
	// taken from the client's failure budget before it was checked (see
	// limited and signIn), and is settled when the handler returns.
	attemptTaken bool
	// reqs is the request counter of the request's route for the
	// observer, set by the handlers that keep one; nil means routeLabel
	// decides.
	reqs RequestCounter
}

// bodyElapsed returns the time from the request's start to the end of its
// body, and keeps the reading as bodyRead; a request the middleware did
// not time is taken as begun long ago.
func (ri *requestInfo) bodyElapsed() time.Duration {
	if !ri.timed {
		return time.Duration(math.MaxInt64)
	}
	ri.bodyRead = ri.srv.monotonic()
	return ri.bodyRead - ri.start
}

// requestWriter is the ResponseWriter every handler gets: the connection's
// writer, the status and size written, for the access log, and the
// request's info. It is the one allocation the middleware makes per
// request. Carrying the info here rather than in the request's context
// spares a copy of the request (http.Request.WithContext) per request.
type requestWriter struct {
	http.ResponseWriter
	status int
	size   int
	info   requestInfo
	// hostReq is the request handed to the host, for the handlers that
	// call a plugin (newHostRequest), and hostHTTP its request line for a
	// plugin route, in the same allocation.
	hostReq  host.Request
	hostHTTP host.HTTPRequest
	// hostUser is the session's user for hostReq (see hostUser).
	hostUser host.User
	// headerValues holds the value of a plugin route's first response
	// header (see writeRouteOutput): one, as the host's room (HTTPRequest).
	headerValues [1]string
	// params holds the RPC route's parameter (see dispatch).
	params [1]httprouter.Param
}

// TraceID returns the request's trace ID, made on the first call, or ""
// for an info that did not come from the middleware. It is the request's
// host.Tracer.
//
// # Notes
//
// The ID is a string over ri.trace (unsafe.String), which saves the
// request an allocation. That is safe because ri.trace is written once,
// here, before the first string over it exists, and never again: a
// requestInfo serves one request and is never reused. The string keeps
// the writer alive as long as anything holds it, as any pointer into an
// object does, so logs and plugins may keep it. Like the rest of the
// request's info it is used by the goroutine serving the request, which
// also runs the plugin call and its host functions.
func (ri *requestInfo) TraceID() string {
	if ri.srv == nil {
		return ""
	}
	if !ri.traced {
		session.PutTraceID(&ri.trace)
		ri.traced = true
	}
	return unsafe.String(&ri.trace[0], len(ri.trace))
}

// hostUser returns the writer's host.User, or a new one when w did not
// come from the middleware. A request authenticates once, or again for
// the plugin route it is routed to anew (routeHandler.handler), whose user
// replaces the first: the one slot is enough.
func hostUser(w http.ResponseWriter) *host.User {
	if rw, ok := w.(*requestWriter); ok {
		return &rw.hostUser
	}
	return new(host.User)
}

// hostHTTPRequest returns the writer's host.HTTPRequest, or a new one when
// w did not come from the middleware.
func hostHTTPRequest(w http.ResponseWriter) *host.HTTPRequest {
	if rw, ok := w.(*requestWriter); ok {
		return &rw.hostHTTP
	}
	return new(host.HTTPRequest)
}

// connWriter returns the writer net/http gave the middleware, under w, for
// http.MaxBytesReader: net/http closes the connection after a body over the
// limit only when the reader is given its own writer (an unexported
// method), not a wrapper.
func connWriter(w http.ResponseWriter) http.ResponseWriter {
	if rw, ok := w.(*requestWriter); ok {
		return rw.ResponseWriter
	}
	return w
}

// info returns the request's info, set by the middleware, or an empty one
// when w did not come from it.
func info(w http.ResponseWriter) *requestInfo {
	if rw, ok := w.(*requestWriter); ok {
		return &rw.info
	}
	return &requestInfo{}
}

// event starts a log line about r at level lvl, carrying the request's
// req_id and remote_addr. It returns nil, on which zerolog's methods do
// nothing, when the level is off or r did not go through the middleware.
func event(w http.ResponseWriter, r *http.Request, lvl zerolog.Level) *zerolog.Event {
	ri := info(w)
	if ri.srv == nil {
		return nil
	}
	e := ri.srv.log.WithLevel(lvl)
	if e == nil {
		return nil // level off: make no trace ID for it
	}
	return e.Str("req_id", ri.TraceID()).Str("remote_addr", r.RemoteAddr)
}

// requestLogger returns a logger carrying r's req_id and remote_addr, for
// code that finds its logger with zerolog.Ctx, such as the accounts
// service. Only the account routes pay for it.
func (s *Server) requestLogger(w http.ResponseWriter, r *http.Request) zerolog.Logger {
	return s.log.With().Str("req_id", info(w).TraceID()).Str("remote_addr", r.RemoteAddr).Logger()
}

// middleware wraps h with, in one function: the request's info (its trace
// ID, logged as req_id, with its remote address), the access log when
// enabled, panic recovery, and the headers every response carries,
// including CORS.
func (s *Server) middleware(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &requestWriter{ResponseWriter: w, info: requestInfo{srv: s}}
		if s.access != nil || r.Body != http.NoBody { // the observer times calls, not requests (startCall)
			rw.info.start, rw.info.timed = s.monotonic(), true
		}
		if s.access != nil {
			defer s.logAccess(r, rw)
		}
		if s.cfg.Observer != nil {
			s.cfg.Observer.RequestStarted()
			defer s.observeRequest(r, rw)
		}
		defer s.recoverPanic(rw, r)
		commonHeaders(rw, r, h)
	})
}

// logAccess logs one request. It logs the path without the query string,
// which may hold the HTTP key. The batched log encodes the line itself
// when it can (lineBuffer.writeAccess), else zerolog does.
func (s *Server) logAccess(r *http.Request, rw *requestWriter) {
	ri := &rw.info
	mono := s.monotonic() // the access log always times its requests
	f := accessFields{
		reqID: ri.TraceID(), remoteAddr: r.RemoteAddr, method: r.Method, path: r.URL.Path,
		status: rw.status, size: rw.size, duration: mono - ri.start, plugin: ri.plugin,
	}
	if s.accessBuf != nil && s.accessBuf.writeAccess(&f, s.epoch, mono) {
		return
	}
	f.logTo(s.access)
}

// WriteHeader records the status and passes on the first call only.
func (w *requestWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
		w.ResponseWriter.WriteHeader(status)
	}
}

// Write counts the bytes written.
func (w *requestWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.size += n
	return n, err
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *requestWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recoverPanic, deferred, turns a panic in a handler into the internal
// error response and a log entry, instead of net/http's dropped connection.
// A handler that panics after writing its header leaves a truncated
// response. http.ErrAbortHandler is passed on, as it asks net/http to
// abort.
func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.writeError(w, r, fmt.Errorf("panic serving %s %s: %v\n%s", r.Method, r.URL.Path, v, debug.Stack()))
}

// Prebuilt values of the headers every response carries: assigning them
// to a header map costs no allocation. They are shared by every response
// and must never be modified; http.Header's Set and Add replace or copy
// them.
var (
	cacheControlValue    = []string{"no-store, no-cache, must-revalidate"}
	allowOriginValue     = []string{"*"}
	contentTypeJSONValue = []string{contentTypeJSON}
	textPlainValue       = []string{"text/plain"}
)

// commonHeaders sets Nakama's Cache-Control header on every response and
// its CORS header, Access-Control-Allow-Origin: *, on a request with an
// Origin, as gorilla/handlers' CORS does for Nakama (RATIONALE, "CORS
// answers requests that have an Origin"). It answers every OPTIONS request
// itself and passes the others to next.
func commonHeaders(w http.ResponseWriter, r *http.Request, next http.Handler) {
	h := w.Header()
	h["Cache-Control"] = cacheControlValue
	if r.Method == http.MethodOptions {
		w.WriteHeader(preflight(h, r))
		return
	}
	if hasOrigin(r) {
		h["Access-Control-Allow-Origin"] = allowOriginValue
	}
	next.ServeHTTP(w, r)
}

// hasOrigin reports whether r has a non-empty Origin header, which a
// browser sends on every cross-origin request. net/http canonicalizes
// header names, so the map is read directly, as Header.Get would.
func hasOrigin(r *http.Request) bool {
	o := r.Header["Origin"]
	return len(o) > 0 && o[0] != ""
}

// preflight answers an OPTIONS request as gorilla/handlers' CORS does for
// Nakama and returns the status, always with an empty body: 200 when there is
// no Origin (a plain OPTIONS), 400 without Access-Control-Request-Method, 405
// for a method and 403 for a header that is not allowed. A successful answer
// with an Origin carries Access-Control-Allow-Origin: * and lists the
// requested non-simple headers and, for a non-simple method, the method;
// the others carry no CORS header.
func preflight(h http.Header, r *http.Request) int {
	if !hasOrigin(r) {
		return http.StatusOK
	}
	method, ok := r.Header["Access-Control-Request-Method"]
	if !ok || len(method) == 0 {
		return http.StatusBadRequest
	}
	if !corsMethodAllowed(method[0]) {
		return http.StatusMethodNotAllowed
	}
	var allowed []string
	for v := range strings.SplitSeq(r.Header.Get("Access-Control-Request-Headers"), ",") {
		name := http.CanonicalHeaderKey(strings.TrimSpace(v))
		if name == "" || corsSimpleHeader(name) {
			continue
		}
		if !corsHeaderAllowed(name) {
			return http.StatusForbidden
		}
		allowed = append(allowed, name)
	}
	if len(allowed) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(allowed, ","))
	}
	if !corsSimpleMethod(method[0]) {
		h.Set("Access-Control-Allow-Methods", method[0])
	}
	h["Access-Control-Allow-Origin"] = allowOriginValue
	return http.StatusOK
}

// newStdLogger returns a standard logger, for http.Server's own messages
// (such as TLS or header errors), that writes to l at warn level.
func newStdLogger(l zerolog.Logger) *log.Logger {
	return log.New(stdLogWriter{l}, "", 0)
}

// stdLogWriter writes each line as a warn-level message.
type stdLogWriter struct{ l zerolog.Logger }

// Write logs p as one message.
func (w stdLogWriter) Write(p []byte) (int, error) {
	w.l.Warn().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
