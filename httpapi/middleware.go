package httpapi

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

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

// traceIDKey is the context key of a request's *requestInfo.
type traceIDKey struct{}

// requestInfo is what the middleware and the handlers share about one
// request: its trace ID, and the plugin version that answered it.
type requestInfo struct {
	traceID string
	plugin  string
}

// info returns the request's info, set by the trace middleware, or an
// empty one outside it.
func info(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(traceIDKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// traceID returns the request's trace ID.
func traceID(ctx context.Context) string { return info(ctx).traceID }

// middleware wraps h with, outermost first: the request logger, the trace ID
// (logged as req_id), the remote address, the access log when enabled, panic
// recovery, and the headers every response carries, including CORS.
func (s *Server) middleware(h http.Handler) http.Handler {
	h = commonHeaders(h)
	h = s.recoverPanics(h)
	if s.cfg.AccessLog {
		h = hlog.AccessHandler(accessLog)(h)
	}
	h = hlog.RemoteAddrHandler("remote_addr")(h)
	h = withTraceID(h)
	return hlog.NewHandler(s.log)(h)
}

// withTraceID gives each request a new UUIDv4 trace ID, in its context and
// its logger's req_id field; plugins see it as trace_id.
func withTraceID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := &requestInfo{traceID: session.NewTokenID()}
		zerolog.Ctx(r.Context()).UpdateContext(func(c zerolog.Context) zerolog.Context {
			return c.Str("req_id", ri.traceID)
		})
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), traceIDKey{}, ri)))
	})
}

// accessLog logs one request. It logs the path without the query string,
// which may hold the HTTP key.
func accessLog(r *http.Request, status, size int, d time.Duration) {
	ev := zerolog.Ctx(r.Context()).Info().
		Str("method", r.Method).
		Str("path", r.URL.Path).
		Int("status", status).
		Int("size", size).
		Dur("duration", d)
	if p := info(r.Context()).plugin; p != "" {
		ev = ev.Str("plugin", p)
	}
	ev.Msg("request")
}

// recoverPanics turns a panic in a handler into the internal error response
// and a log entry, instead of net/http's dropped connection. A handler that
// panics after writing its header leaves a truncated response.
// http.ErrAbortHandler is passed on, as it asks net/http to abort.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.writeError(w, r, fmt.Errorf("panic serving %s %s: %v\n%s", r.Method, r.URL.Path, v, debug.Stack()))
		}()
		next.ServeHTTP(w, r)
	})
}

// commonHeaders sets Nakama's Cache-Control and CORS headers on every
// response and answers every OPTIONS request itself.
func commonHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store, no-cache, must-revalidate")
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.WriteHeader(preflight(h, r))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// preflight answers an OPTIONS request as gorilla/handlers' CORS does for
// Nakama and returns the status, always with an empty body: 200 when there is
// no Origin (a plain OPTIONS), 400 without Access-Control-Request-Method, 405
// for a method and 403 for a header that is not allowed. A successful answer
// lists the requested non-simple headers and, for a non-simple method, the
// method.
func preflight(h http.Header, r *http.Request) int {
	if r.Header.Get("Origin") == "" {
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
