package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/julienschmidt/httprouter"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/host"
)

// RouteCaller serves plugins' custom HTTP routes. *host.Host satisfies it.
type RouteCaller interface {
	// Routes returns the current routes and a generation that changes
	// whenever they do.
	Routes() ([]*host.Route, uint64)
	// CallRoute runs the route's handler, and refuses with
	// host.RefusedReplaced once a reload has retired the route's plugin
	// version: the request is then routed again (routeHandler.handler).
	CallRoute(ctx context.Context, r *host.Route, req *host.Request) (host.Result, error)
}

var _ RouteCaller = (*host.Host)(nil)

// reservedPrefixes are paths that only Warden serves: a plugin route under
// one of them is refused at load, and no request under one is ever
// dispatched to a plugin route, whatever its method (see reservedPath).
var reservedPrefixes = []string{"/v2/", abi.ReservedPathPrefix, "/_bench/", "/healthcheck/"}

// reservedPath returns the reserved prefix that p is under, or "". p is
// compared as it is and cleaned ("/v2//rpc", "/x/../v2/rpc"), in any case
// ("/V2/rpc"), so that no spelling of a reserved path that a proxy in
// front might normalise reaches a plugin.
//
// # Notes
//
// Every plugin route's request asks, so the common path, rooted, clean
// and ASCII, takes one pass without copies (cleanASCII, then
// reservedPrefix, which folds ASCII case itself); any other goes through
// strings.ToLower and path.Clean, whose Unicode case mapping (the Kelvin
// sign lowers to 'k') the fast path need not know. FuzzReservedPath holds
// both to the plain definition.
func reservedPath(p string) string {
	if cleanASCII(p) {
		return reservedPrefix(p)
	}
	if prefix := reservedPrefix(strings.ToLower(p)); prefix != "" {
		return prefix
	}
	if c := path.Clean(p); c != p { // most paths are clean: one pass
		return reservedPrefix(strings.ToLower(c))
	}
	return ""
}

// reservedPrefix returns the reserved prefix that the path c is under or
// equal to without its final slash, or "", with ASCII letters in any case.
// c is an ASCII path or strings.ToLower's form of one: no other byte folds
// to a prefix's.
func reservedPrefix(c string) string {
	for _, prefix := range reservedPrefixes {
		if len(c) >= len(prefix) && equalLowerASCII(c[:len(prefix)], prefix) ||
			len(c) == len(prefix)-1 && equalLowerASCII(c, prefix[:len(c)]) {
			return prefix
		}
	}
	return ""
}

// equalLowerASCII reports whether s, its ASCII letters lowered, is lower,
// which has the same length and no upper-case letter.
func equalLowerASCII(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// cleanASCII reports whether p is a rooted ASCII path that path.Clean
// returns unchanged: no element is empty, "." or "..", so there is no
// double or trailing slash ("/" itself aside).
func cleanASCII(p string) bool {
	if p == "/" {
		return true
	}
	if len(p) < 2 || p[0] != '/' {
		return false
	}
	elem := 0 // the current element's length, up to 3
	dots := 0 // how many of its bytes are dots, up to 3
	for i := 1; i < len(p); i++ {
		switch c := p[i]; {
		case c >= utf8.RuneSelf:
			return false
		case c == '/':
			if elem == 0 || elem == dots && dots <= 2 {
				return false
			}
			elem, dots = 0, 0
		default:
			if elem < 3 {
				elem++
				if c == '.' {
					dots++
				}
			}
		}
	}
	return elem != 0 && !(elem == dots && dots <= 2)
}

// builtinProbes are paths of Warden's own routes. A plugin pattern that
// would match one of them is refused at load, so that a plugin can never
// shadow a built-in endpoint, even one added to the API later under
// these paths.
var builtinProbes = []string{"/", "/healthcheck", "/v2", "/v2/rpc/x", "/v2/account", "/v2/session/logout", "/_warden/plugins", "/_bench/echo"}

// CheckPluginRoutes checks plugin routes before they can serve: none may be
// under a reserved prefix or match a built-in path, and together they must
// form a valid httprouter tree (no two plugins claiming conflicting
// patterns). It is the host's RouteChecker.
//
// # Errors
//
// The error names the route, its plugin and the conflict.
func CheckPluginRoutes(routes []*host.Route) error {
	for _, r := range routes {
		if p := reservedPath(r.Pattern); p != "" {
			return fmt.Errorf("route %s of plugin %s is under %s, which Warden reserves", r.Pattern, r.Plugin, p)
		}
	}
	router, err := buildPluginRouter(routes, func(*host.Route) httprouter.Handle { return nil })
	if err != nil {
		return err
	}
	for _, path := range builtinProbes {
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} {
			if h, _, _ := router.Lookup(m, path); h != nil {
				return fmt.Errorf("a plugin route would shadow Warden's %s %s", m, path)
			}
		}
	}
	return nil
}

// buildPluginRouter builds an httprouter for routes. httprouter panics on a
// conflicting pattern; the panic becomes an error naming the route.
func buildPluginRouter(routes []*host.Route, handler func(*host.Route) httprouter.Handle) (router *httprouter.Router, err error) {
	router = httprouter.New()
	router.RedirectTrailingSlash = false
	router.RedirectFixedPath = false
	router.HandleOPTIONS = false
	for _, r := range routes {
		h := handler(r)
		if h == nil {
			h = func(http.ResponseWriter, *http.Request, httprouter.Params) {}
		}
		for _, m := range r.Methods {
			if err := addRoute(router, m, r, h); err != nil {
				return nil, err
			}
		}
	}
	return router, nil
}

func addRoute(router *httprouter.Router, method string, r *host.Route, h httprouter.Handle) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("route %s %s of plugin %s conflicts: %v", method, r.Pattern, r.Plugin, p)
		}
	}()
	router.Handle(method, r.Pattern, h)
	return nil
}

// pluginRouter is the router of one generation of plugin routes, and its
// index, which finds a route's handler where the router finds its
// httprouter.Handle, for a request to be routed again (reroute). Both are
// built together, once per generation, so that a request routed once pays
// for neither the index nor its lookup.
type pluginRouter struct {
	gen    uint64
	router *httprouter.Router
	index  *httprouter.Router
}

// pluginRoutes holds the current plugin router, rebuilt when the host's
// routes change. Requests load it without a lock; a rebuild takes mu.
type pluginRoutes struct {
	mu      sync.Mutex
	current atomic.Pointer[pluginRouter]
}

// pluginRouter returns the router for the host's current routes.
func (s *Server) pluginRouter() (*pluginRouter, error) {
	routes, gen := s.cfg.Routes.Routes()
	pr := &s.plugins
	if cur := pr.current.Load(); cur != nil && cur.gen == gen {
		return cur, nil
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if cur := pr.current.Load(); cur != nil && cur.gen == gen {
		return cur, nil // another request rebuilt it
	}
	handlers := make(map[*host.Route]*routeHandler, len(routes))
	for _, r := range routes {
		handlers[r] = s.newRouteHandler(r)
	}
	router, err := buildPluginRouter(routes, func(r *host.Route) httprouter.Handle {
		return s.handle(gateway(handlers[r].handler()))
	})
	if err != nil {
		return nil, err // the host checked the routes; this is a bug
	}
	index, err := buildPluginRouter(routes, func(r *host.Route) httprouter.Handle {
		rh := handlers[r]
		return func(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) { w.(*routeProbe).rh = rh }
	})
	if err != nil {
		return nil, err
	}
	cur := &pluginRouter{gen: gen, router: router, index: index}
	pr.current.Store(cur)
	return cur, nil
}

// routeProbe is the writer that an index's handle is called with: it
// takes the route's handler, and nothing is written.
type routeProbe struct {
	http.ResponseWriter
	rh *routeHandler
}

// servePlugin serves a request that no built-in route matched: a plugin
// route, or Nakama's 404 or 501. A request under a reserved prefix never
// reaches a plugin: a pattern that begins with parameters (/:a/:b/:c)
// matches reserved paths by shape, and the built-in router falls through
// to here for a method it does not serve (PUT /v2/rpc/x).
func (s *Server) servePlugin(notFound error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ps, err := s.pluginHandle(r)
		switch {
		case err != nil:
			s.writeError(w, r, err)
		case h != nil:
			h(w, r, ps)
		default:
			s.writeError(w, r, notFound)
		}
	})
}

// pluginHandle returns the plugin route that serves r, or nil: always nil
// for a path under a reserved prefix, which never reaches a plugin. It is
// the one place that looks plugin routes up (servePlugin, dispatch), but
// for reroute, which looks a routed request up again.
//
// # Errors
//
// The plugin router's, when it cannot be built.
func (s *Server) pluginHandle(r *http.Request) (httprouter.Handle, httprouter.Params, error) {
	if s.cfg.Routes == nil || reservedPath(r.URL.Path) != "" {
		return nil, nil, nil
	}
	pr, err := s.pluginRouter()
	if err != nil {
		return nil, nil, err
	}
	h, ps, _ := pr.router.Lookup(r.Method, r.URL.Path)
	return h, ps, nil
}

// reroute routes r again, in the current plugin routes: r was routed to a
// route that a reload has retired since (host.RefusedReplaced). It returns
// the handler of the route that serves r now, and r's parameters under
// that route's names. r's path is not reserved: pluginHandle routed it.
//
// # Errors
//
// grpc-gateway's "Not Found" when no plugin route serves r now, as a
// request sent now would get; the plugin router's, when it cannot be
// built.
func (s *Server) reroute(r *http.Request) (*routeHandler, httprouter.Params, error) {
	pr, err := s.pluginRouter()
	if err != nil {
		return nil, nil, err
	}
	h, ps, _ := pr.index.Lookup(r.Method, r.URL.Path)
	if h == nil {
		return nil, nil, errRouteNotFound()
	}
	var probe routeProbe
	h(&probe, r, ps)
	return probe.rh, ps, nil
}
