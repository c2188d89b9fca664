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
// methods are called on the request path, concurrently, and must not
// block; a nil Observer costs nothing.
type Observer interface {
	// RequestStarted is called as a request starts, RequestDone as it
	// ends: route is a bounded label (a registered pattern, or a fixed
	// name for a path no route serves) and status the HTTP status.
	RequestStarted()
	RequestDone(route string, status int)
	// RPCDone is called once per RPC call that reached the host: id is a
	// registered RPC id or UnknownRPC, code the call's gRPC-style code,
	// elapsed the call's time, in and out the payload and result bytes.
	RPCDone(id string, code abi.Code, elapsed time.Duration, in, out int)
	// PluginRouteDone is RPCDone for a plugin's HTTP route, by its
	// registered pattern, with the response's HTTP status.
	PluginRouteDone(pattern string, status int, elapsed time.Duration, in, out int)
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

// observeRoute tells the observer of a plugin route's call, as observeRPC.
func (s *Server) observeRoute(pattern string, start time.Duration, in int, res host.Result, err error) {
	status := res.Status
	if err != nil {
		status = http.StatusInternalServerError
		var ce *host.CallError
		if errors.As(err, &ce) {
			status = ce.Code.Normalize().HTTPStatus()
		}
	}
	s.cfg.Observer.PluginRouteDone(pattern, status, s.monotonic()-start, in, len(res.Output))
}

// observeRequest, deferred by the middleware, tells the observer that a
// request ended.
func (s *Server) observeRequest(r *http.Request, rw *requestWriter) {
	route := rw.info.route
	if route == "" {
		route = routeLabel(r)
	}
	status := rw.status
	if status == 0 {
		status = http.StatusOK // nothing written: net/http sends 200
	}
	s.cfg.Observer.RequestDone(route, status)
}
