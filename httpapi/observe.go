package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/host"
)

// UnknownRPC is the RPC id an Observer gets for a call to an id no plugin
// registers: ids in metrics come from registrations, never from the path,
// so that a client cannot grow the number of series.
const UnknownRPC = "(unknown)"

// Observer is told of the requests the server answers, for metrics. Its
// methods, and those of the counters it returns, are called on the request
// path, concurrently, and must not block; a nil Observer costs nothing.
//
// The counters of the RPC route and of plugin routes are asked for once
// and kept (the RPC route's when the server is made, a plugin route's when
// the plugin routes are built), so that their requests' ends cost no
// lookup by label; the other built-in paths (accounts, health, admin) and
// the paths no route serves ask per request, by routeLabel.
type Observer interface {
	// RequestStarted is called as a request starts; the request counter
	// of its route ends it.
	RequestStarted()
	// Requests returns the request counter of route, a bounded label (a
	// registered pattern, or a fixed name for a path no route serves).
	Requests(route string) RequestCounter
	// RPCDone is called once per RPC call that reached the host: id is a
	// registered RPC id or UnknownRPC, code the call's gRPC-style code,
	// elapsed the call's time, in and out the payload and result bytes.
	RPCDone(id string, code abi.Code, elapsed time.Duration, in, out int)
	// PluginRoute returns the call counter of a plugin's HTTP route, by
	// its registered pattern.
	PluginRoute(pattern string) CallCounter
}

// RequestCounter counts the requests of one route: Done ends one, with the
// HTTP status it was answered with. It is an alias of an interface
// literal so that an observer needs no import of httpapi to return one
// (package metrics, which httpapi's tests import, does not).
type RequestCounter = interface {
	Done(status int)
}

// CallCounter counts the calls of one plugin route, as RPCDone does an
// RPC's, with the response's HTTP status; an alias, as RequestCounter.
type CallCounter = interface {
	Done(status int, elapsed time.Duration, in, out int)
}

// Route labels of the paths that no registered pattern names.
const (
	routeRPC         = "/v2/rpc/*id"
	routeAdminPlugin = adminPluginsPath + "/*name"
	routeOther       = "other"
)

// routeLabel returns the route label of a request that no handler
// labelled: its path when that is one of Warden's fixed paths, else
// "other", so that random paths do not grow the number of series.
func routeLabel(r *http.Request) string {
	p := r.URL.Path
	switch p {
	case "/", "/healthcheck", adminPluginsPath,
		"/v2/account", "/v2/account/session/refresh", "/v2/session/logout",
		"/v2/account/authenticate/custom", "/v2/account/authenticate/device", "/v2/account/authenticate/email":
		return p
	}
	switch {
	case strings.HasPrefix(p, "/v2/rpc/"):
		return routeRPC
	case strings.HasPrefix(p, adminPluginsPath+"/"):
		return routeAdminPlugin
	}
	return routeOther
}

// monotonic returns the time since the server started, from the monotonic
// clock alone: one clock read, where time.Now takes two (wall and
// monotonic). Call timings for the observer are differences of two.
func (s *Server) monotonic() time.Duration { return time.Since(s.epoch) }

// startCall returns the clock reading, as s.monotonic(), that the plugin
// call about to be made with req runs from, and gives it to req (Start),
// from which the host counts the call's deadline:
//   - the request's body's (bodyRead, taken just before);
//   - else a new reading when the observer times the call;
//   - else the request's own start, when the middleware read it for the
//     access log: a bodiless request's call follows it within
//     microseconds, and counting the deadline from it only shortens the
//     call's time by those;
//   - else 0, and req gets none: the host reads its clock itself.
func (s *Server) startCall(w http.ResponseWriter, req *host.Request) time.Duration {
	var start time.Duration
	rw, ok := w.(*requestWriter)
	switch {
	case ok && rw.info.bodyRead != 0:
		start = rw.info.bodyRead
	case s.cfg.Observer != nil:
		start = s.monotonic()
	case ok && rw.info.timed:
		start = rw.info.start
	}
	if start != 0 {
		req.Start = s.epoch.Add(start)
	}
	return start
}

// observeRPC tells the observer of an RPC call that reached the host;
// start is startCall's reading.
func (s *Server) observeRPC(id string, start time.Duration, in int, res host.Result, err error) {
	code := abi.CodeOK
	if err != nil { // errors.As only here: its target escapes, one allocation
		code = abi.CodeInternal
		var ce *host.CallError
		if errors.As(err, &ce) {
			code = ce.Code.Normalize()
			if ce.Refused == host.RefusedNotFound {
				id = UnknownRPC
			}
		}
	}
	s.cfg.Observer.RPCDone(id, code, s.monotonic()-start, in, len(res.Output))
}

// observeRoute tells a plugin route's call counter of a call, as
// observeRPC.
func (s *Server) observeRoute(calls CallCounter, start time.Duration, in int, res host.Result, err error) {
	status := res.Status
	if err != nil {
		status = http.StatusInternalServerError
		var ce *host.CallError
		if errors.As(err, &ce) {
			status = ce.Code.Normalize().HTTPStatus()
		}
	}
	calls.Done(status, s.monotonic()-start, in, len(res.Output))
}

// observeRequest, deferred by the middleware, tells the observer that a
// request ended.
func (s *Server) observeRequest(r *http.Request, rw *requestWriter) {
	reqs := rw.info.reqs
	if reqs == nil {
		reqs = s.cfg.Observer.Requests(routeLabel(r))
	}
	status := rw.status
	if status == 0 {
		status = http.StatusOK // nothing written: net/http sends 200
	}
	reqs.Done(status)
}
