package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/host"
)

// routeHandler is one plugin route of one generation of the plugin
// routes, with what its requests need not look up, built once with the
// router: the route's Warden-Plugin header value and its counters.
type routeHandler struct {
	srv   *Server
	route *host.Route
	// mark is the Warden-Plugin value of the route's plugin version.
	mark []string
	// reqs and calls are the route's counters, nil without an observer.
	reqs  RequestCounter
	calls CallCounter
}

// newRouteHandler returns route's handler.
func (s *Server) newRouteHandler(route *host.Route) *routeHandler {
	rh := &routeHandler{srv: s, route: route, mark: s.marks.value(route.Plugin, route.Version)}
	if s.cfg.Observer != nil {
		rh.reqs, rh.calls = s.cfg.Observer.Requests(route.Pattern), s.cfg.Observer.PluginRoute(route.Pattern)
	}
	return rh
}

// handler returns the handler of rh's route: it authenticates (a session
// is required or optional), reads the body within the limit, calls the
// plugin and writes its status, headers and body.
//
// A reload may retire the route's plugin version while the body is read
// (host.RefusedReplaced): the request is then routed again, as it would
// be if it came now, and authenticated again for the route it finds, whose
// session requirement, parameters and plugin may differ; the body read
// serves again. That repeats, should reloads keep overtaking it, up to
// maxReroutes times.
//
// # Notes
//
// It is one closure, longer than a function should be, because every
// plugin route's request runs it: split into a method for each step, it
// ran about a hundred instructions more per request (callgrind,
// BenchmarkServer_chain/RouteTest; RATIONALE.md).
func (rh *routeHandler) handler() handlerFunc {
	s := rh.srv
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		authz, hasAuthz := r.Header["Authorization"] // net/http's keys are canonical
		var auth string
		if len(authz) > 0 {
			auth = authz[0] // as r.Header.Get, without canonicalizing the key
		}
		var body []byte
		for cur, reroutes := rh, 0; ; reroutes++ {
			route := cur.route
			if cur.reqs != nil { // first: a request refused below is the route's too
				info(w).reqs = cur.reqs
			}
			var user *host.User
			if strings.HasPrefix(auth, prefixBearer) {
				u, err := s.bearerUser(w, r, auth)
				if err != nil && route.SessionRequired {
					return err
				}
				user = u
			} else if route.SessionRequired {
				return errAuthTokenInvalid(errors.New("the route needs a session"))
			}
			if reroutes == 0 && r.Body != http.NoBody { // a GET without a body needs no read
				var err error
				if body, err = s.readBody(w, r); err != nil {
					return err
				}
			}
			req := newHostRequest(w, r, "", body, user, newQuery(r.URL.RawQuery))
			if hasAuthz && !route.SessionRequired {
				req.Headers["Authorization"] = authz // open handlers do their own auth
			}
			params := make([][2]string, len(ps))
			for i, p := range ps {
				params[i] = [2]string{p.Key, p.Value}
			}
			req.HTTP = hostHTTPRequest(w)
			*req.HTTP = host.HTTPRequest{Method: r.Method, Path: r.URL.Path, Route: route.Pattern, Params: params}
			start := s.startCall(w, req)
			res, err := s.cfg.Routes.CallRoute(r.Context(), route, req)
			if err != nil && reroutes < maxReroutes && replaced(err) { // it ran nothing
				if cur, ps, err = s.reroute(r); err != nil {
					return err
				}
				continue
			}
			if cur.calls != nil {
				s.observeRoute(cur.calls, start, len(body), res, err)
			}
			if err != nil {
				return routeError(w, r, err)
			}
			setMark(w, cur.mark) // CallRoute runs the route's own version
			writeRouteOutput(w, res)
			return nil
		}
	}
}

// maxReroutes bounds how often one request is routed again because
// reloads keep retiring the route it was routed to, as host.Call bounds
// its lookups (host.maxLookups); past it, the request fails with the
// host's refusal, code 14, which a client may retry.
const maxReroutes = 16

// replaced reports whether err is the host's refusal of a route that a
// reload retired after the request was routed to it.
func replaced(err error) bool {
	ce, ok := errors.AsType[*host.CallError](err)
	return ok && ce.Refused == host.RefusedReplaced
}

// headerCSP and routeCSPValue are the Content-Security-Policy header that
// sandboxes every page a plugin route serves (abi.RouteContentSecurityPolicy).
const headerCSP = "Content-Security-Policy"

var routeCSPValue = []string{abi.RouteContentSecurityPolicy}

// writeRouteOutput writes a plugin route's status, headers and body, with
// the sandbox's Content-Security-Policy.
func writeRouteOutput(w http.ResponseWriter, res host.Result) {
	h := w.Header()
	// First, so that a policy the plugin adds is a second one, which only
	// narrows it; the slice's capacity is its length, so that adding copies.
	h[headerCSP] = routeCSPValue
	var room []string
	if rw, ok := w.(*requestWriter); ok {
		room = rw.headerValues[:0]
	}
	for _, kv := range res.Headers { // the host gives canonical names already
		if old := h[kv[0]]; len(old) == 0 && len(room) < cap(room) {
			// The value's own slice, in the request's memory: capped, so
			// that an append to it (http.Header.Add) copies it.
			room = append(room, kv[1])
			h[kv[0]] = room[len(room)-1 : len(room) : len(room)]
		} else {
			h[kv[0]] = append(old, kv[1])
		}
	}
	w.WriteHeader(res.Status)
	_, _ = w.Write(res.Output) // the client went away; nothing to do
}

// routeError returns a plugin route's error in the gateway shape, with the
// plugin named in a header when the error is the plugin's; a route that no
// plugin serves any more is grpc-gateway's "Not Found", as any other path
// no route serves. It is apart from pluginRoute so that a successful call
// does not pay for the CallError that errors.As moves to the heap.
func routeError(w http.ResponseWriter, r *http.Request, err error) error {
	var ce *host.CallError
	if errors.As(err, &ce) {
		msg, byPlugin := callAnswer(ce)
		if ce.Refused == host.RefusedNotFound {
			msg = msgNotFound
		}
		if byPlugin {
			markPlugin(w, r, ce.Plugin, ce.Version)
		}
		return gatewayError(ce.Code.Normalize(), msg, err)
	}
	return err
}
