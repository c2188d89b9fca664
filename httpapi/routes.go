package httpapi

import (
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/warden-rpc/warden/accounts"
)

// handlerFunc is an httprouter handler that returns its error instead of
// writing it; see Server.handle.
type handlerFunc func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error

// routes returns the router with every route of the API. It is the only
// place that registers routes; new endpoints are added here.
//
// # Notes
//
// httprouter matches the decoded path (URL.Path), so /v2/rpc/a%2Fb reaches
// the RPC handler with id "a/b", as it does in Nakama. Path redirects are
// off: Nakama answers an unknown path, such as /v2/rpc without a trailing
// slash or /V2/RPC/x, with 404, not with a redirect. OPTIONS never reaches
// the router; the CORS middleware answers it.
func (s *Server) routes() *httprouter.Router {
	r := httprouter.New()
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleOPTIONS = false
	r.HandleMethodNotAllowed = true
	r.NotFound = s.servePlugin(errRouteNotFound())
	r.MethodNotAllowed = s.servePlugin(errMethodNotAllowed())

	r.GET("/", s.handle(root))
	r.GET("/healthcheck", s.handle(healthcheck))

	rpc := s.handle(s.limited(s.rpc(s.cfg.Caller, rpcIDParam), limitRule{}))
	r.GET("/v2/rpc/*id", rpc)
	r.POST("/v2/rpc/*id", rpc)

	if s.cfg.Accounts != nil {
		s.accountRoutes(r)
	}

	if s.cfg.Admin != nil {
		r.GET(adminPluginsPath, s.handle(s.limited(s.listPlugins, limitRule{})))
		r.POST(adminPluginsPath, s.handle(s.limited(s.reloadPlugins, limitRule{})))
		r.PUT(adminPluginsPath+"/*name", s.handle(s.limited(s.deployPlugin, limitRule{})))
		r.DELETE(adminPluginsPath+"/*name", s.handle(s.limited(s.removePlugin, limitRule{})))
	}

	if s.cfg.Console != nil { // the web console (package console)
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			r.Handler(m, consolePath+"*rest", s.cfg.Console)
		}
		r.Handler(http.MethodGet, strings.TrimSuffix(consolePath, "/"), http.RedirectHandler(consolePath, http.StatusFound))
	}

	if s.cfg.NativeEcho {
		echo := s.handle(s.rpc(echoCaller{}, func(httprouter.Params) string { return "echo" }))
		r.GET("/_bench/echo", echo)
		r.POST("/_bench/echo", echo)
		r.GET("/_bench/test", s.handle(nativeTest))
	}
	return r
}

// accountRoutes registers Nakama's account API. Its errors take
// grpc-gateway's shape; the authenticate endpoints also count "User account
// not found." as a failed attempt, since it tells who has an account.
func (s *Server) accountRoutes(r *httprouter.Router) {
	account := func(h handlerFunc, rule limitRule) httprouter.Handle {
		rule.gateway = true
		return s.handle(s.withLogger(s.limited(gateway(h), rule)))
	}
	// A password is checked at every email sign-in, so each takes its
	// attempt beforehand; a custom or device ID is checked so at a login
	// (create=false) only (limitRule).
	byID := limitRule{notFound: true, reserveLogins: true}
	byPassword := limitRule{notFound: true, reserve: true}
	r.POST("/v2/account/authenticate/custom", account(s.authenticateAccount(accounts.KindCustom), byID))
	r.POST("/v2/account/authenticate/device", account(s.authenticateAccount(accounts.KindDevice), byID))
	r.POST("/v2/account/authenticate/email", account(s.authenticateAccount(accounts.KindEmail), byPassword))
	r.POST("/v2/account/session/refresh", account(s.refreshSession, limitRule{}))
	r.POST("/v2/session/logout", account(s.logout, limitRule{}))
	r.GET("/v2/account", account(s.getAccount, limitRule{}))
}

// withLogger gives h's request context a logger carrying the request's
// req_id and remote_addr, for the services that log through zerolog.Ctx,
// and the client's address, which the sessions issued record.
func (s *Server) withLogger(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		l := s.requestLogger(w, r)
		ctx := accounts.WithClientAddr(l.WithContext(r.Context()), clientIP(r))
		return h(w, r.WithContext(ctx), ps)
	}
}

// clientIP is the TCP peer's address without its port.
func clientIP(r *http.Request) string { return peerOf(r).ip }

// handle adapts h to httprouter, sending its error to writeError.
func (s *Server) handle(h handlerFunc) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		if err := h(w, r, ps); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// rpcIDParam returns the RPC id of a /v2/rpc/*id route: the catch-all
// without its leading slash. It may contain slashes and may be empty.
func rpcIDParam(ps httprouter.Params) string {
	return strings.TrimPrefix(ps.ByName("id"), "/")
}

// root answers GET / with 200 and an empty body, as Nakama does.
func root(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) error {
	w.WriteHeader(http.StatusOK)
	return nil
}

// healthcheck answers GET /healthcheck with 200 and {}.
func healthcheck(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	w.Header().Set("Content-Type", contentTypeJSON)
	_, err := w.Write([]byte("{}"))
	logWriteError(w, r, err)
	return nil
}
