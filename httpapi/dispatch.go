package httpapi

import (
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"
)

// rpcPrefix is the static part of the RPC route's pattern, /v2/rpc/*id.
const rpcPrefix = "/v2/rpc"

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
//
// An RPC (GET or POST under /v2/rpc/) is served by the RPC route's handle
// with its one parameter in the request's writer, where httprouter would
// allocate it: httprouter matches every path under a catch-all's prefix
// to the catch-all, whose value is the rest of the path from its slash,
// and allows no other route under that prefix. catchAll checks, when the
// router is built, that main's route there is that catch-all.
func (s *Server) dispatch(main *httprouter.Router) http.Handler {
	rpcGet, rpcPost := catchAll(main, http.MethodGet, rpcPrefix), catchAll(main, http.MethodPost, rpcPrefix)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if rw, ok := w.(*requestWriter); ok && strings.HasPrefix(p, rpcPrefix+"/") {
			h := rpcGet
			if r.Method == http.MethodPost {
				h = rpcPost
			} else if r.Method != http.MethodGet {
				h = nil
			}
			if h != nil {
				rw.params[0] = httprouter.Param{Key: h.key, Value: p[len(rpcPrefix):]}
				h.handle(w, r, rw.params[:])
				return
			}
		}
		if h, ps, _ := main.Lookup(r.Method, p); h != nil {
			h(w, r, ps)
			return
		}
		if p != "/" {
			// A failed plugin router build is main's to answer, below.
			if h, ps, err := s.pluginHandle(r); err == nil && h != nil {
				h(w, r, ps)
				return
			}
		}
		main.ServeHTTP(w, r)
	})
}

// catchAllRoute is a route whose pattern is a static prefix and a
// catch-all parameter named key.
type catchAllRoute struct {
	handle httprouter.Handle
	key    string
}

// catchAll returns main's route for method under prefix when it is one
// catch-all, which matches prefix+"/x" and prefix+"/a/b" with the rest of
// the path from its slash as the one parameter, and nil otherwise.
func catchAll(main *httprouter.Router, method, prefix string) *catchAllRoute {
	var key string
	for _, rest := range []string{"/x", "/a/b"} {
		h, ps, _ := main.Lookup(method, prefix+rest)
		if h == nil || len(ps) != 1 || ps[0].Value != rest || key != "" && ps[0].Key != key {
			return nil
		}
		key = ps[0].Key
	}
	h, _, _ := main.Lookup(method, prefix+"/x")
	return &catchAllRoute{handle: h, key: key}
}
