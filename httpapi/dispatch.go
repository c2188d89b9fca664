package httpapi

import (
	"net/http"

	"github.com/julienschmidt/httprouter"
)

// dispatch returns the handler that picks a request's route: a built-in
// route of main, else a plugin route, else main's own answer (its
// NotFound or MethodNotAllowed handler, servePlugin, which writes the 404
// or 501). It answers every request exactly as main.ServeHTTP alone does,
// without main's search for the methods a missed path allows, which on a
// plugin route cost every request a lookup in each method's tree.
//
// # Notes
//
// The answers are the same because:
//
//   - A built-in hit is served as httprouter v1.3.0's ServeHTTP serves it:
//     the tree of r.Method, getValue(r.URL.Path), then the handle; main
//     has no PanicHandler, so ServeHTTP defers nothing before.
//   - A plugin hit is served only for a path that is not reserved and is
//     not "/". Every built-in pattern but "/" is under a reserved prefix
//     (TestRoutes_builtinPatternsReserved), and httprouter matches paths as
//     sent, so no built-in route matches such a path in any method: main
//     would find no allowed method, set no Allow header and call NotFound,
//     which is servePlugin, which serves that same plugin hit when the
//     path is not reserved. (servePlugin serves plugin hits from
//     MethodNotAllowed too, but main calls that only for "/" and reserved
//     paths, where no plugin is served.)
//   - Everything else, including a failed plugin router build, goes to
//     main.ServeHTTP, as before.
func (s *Server) dispatch(main *httprouter.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if h, ps, _ := main.Lookup(r.Method, p); h != nil {
			h(w, r, ps)
			return
		}
		if s.cfg.Routes != nil && p != "/" && reservedPath(p) == "" {
			if router, err := s.pluginRouter(); err == nil {
				if h, ps, _ := router.Lookup(r.Method, p); h != nil {
					h(w, r, ps)
					return
				}
			}
		}
		main.ServeHTTP(w, r)
	})
}
