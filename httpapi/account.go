package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/netip"

	"github.com/julienschmidt/httprouter"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/accounts"
)

// AccountService serves Nakama's account API: authentication, session
// refresh and logout, and the caller's account. *accounts.Service
// implements it. Its refusals are *accounts.Error values, whose code and
// message reach the client in grpc-gateway's error shape.
type AccountService interface {
	// Authenticate finds or creates the user that c names and issues a
	// session.
	Authenticate(ctx context.Context, c accounts.Credentials) (accounts.Session, error)
	// Refresh issues a new session for a refresh token; empty vars keep the
	// token's.
	Refresh(ctx context.Context, refreshToken string, vars map[string]string) (accounts.Session, error)
	// Logout revokes the session of userID that the tokens belong to, or
	// all its sessions when both are empty.
	Logout(ctx context.Context, userID, token, refreshToken string) error
	// Account returns the account of userID.
	Account(ctx context.Context, userID string) (*accounts.Account, error)
}

// AttemptLimiter bounds failed authentication attempts and account
// creations per client address. *accounts.Limiter implements it.
type AttemptLimiter interface {
	// Allow reports whether the client at addr may attempt to authenticate.
	Allow(addr netip.Addr) bool
	// Fail records a failed attempt by the client at addr.
	Fail(addr netip.Addr)
	// TakeAttempt takes one failure from the budget of the client at addr
	// before an attempt at a password, and reports whether one was left.
	TakeAttempt(addr netip.Addr) bool
	// RefundAttempt gives back an attempt that TakeAttempt took for a
	// request that did not fail.
	RefundAttempt(addr netip.Addr)
	// TakeSignup takes one account creation from the budget of the client
	// at addr and reports whether one was left.
	TakeSignup(addr netip.Addr) bool
	// RefundSignup gives back a creation that TakeSignup took for a
	// request that created no account.
	RefundSignup(addr netip.Addr)
}

var (
	_ AccountService = (*accounts.Service)(nil)
	_ AttemptLimiter = (*accounts.Limiter)(nil)
	_ SessionChecker = (*accounts.Service)(nil)
)

// Messages of the account API's own refusals: Nakama's security
// interceptor's, and Warden's for the limiter.
const (
	msgServerKeyRequired = "Server key required"
	msgServerKeyInvalid  = "Server key invalid"
	msgAuthTokenRequired = "Auth token required"
	msgTooManyAttempts   = "Too many failed authentication attempts, try again later."
	msgTooManySignups    = "Too many accounts created from this address, try again later."
)

// authenticateBody is the body of the authenticate endpoints: Nakama's
// AccountCustom, AccountDevice or AccountEmail. Fields of another kind are
// ignored, as grpc-gateway discards unknown fields.
type authenticateBody struct {
	ID       string            `json:"id"`
	Email    string            `json:"email"`
	Password string            `json:"password"`
	Vars     map[string]string `json:"vars"`
}

// authenticateAccount returns the handler of POST
// /v2/account/authenticate/{custom,device,email}, in grpc-gateway's and
// Nakama's order: decode the body, then the create and username query
// parameters, then check the server key, then the credentials.
func (s *Server) authenticateAccount(kind accounts.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
		var body authenticateBody
		present, err := s.readJSON(w, r, &body)
		if err != nil {
			return err
		}
		create, username, err := authenticateQuery(r.URL.Query())
		if err != nil {
			return err
		}
		if err := s.checkServerKey(r); err != nil {
			return err
		}
		sess, err := s.signIn(w, r, accounts.Credentials{
			Kind: kind, ID: body.ID, Email: body.Email, Password: body.Password,
			Username: username, Create: create, Vars: body.Vars, NoAccount: !present,
		})
		if err != nil {
			return err
		}
		return writeJSON(w, r, sessionJSON(sess))
	}
}

// signIn runs Authenticate for c, spending the client's sign-up
// budget on the account it may create. The budget is taken beforehand, so
// that concurrent requests cannot overspend it, and given back when no
// account was made. A client without budget left still logs in to existing
// accounts; only its would-be sign-ups are refused. Such a login tells
// whether the account exists, as one with create=false does, so it takes
// its attempt from the failure budget beforehand too (limited settles it),
// unless the route took it already. Without a Limiter, or for a request
// whose peer address does not parse, sign-ups are unlimited.
//
// # Errors
//
// Authenticate's, 429 with code 8 for a sign-up over the budget, and
// 429 for a client over the failure budget as well. The first refusal
// wraps the 404 it stands for, so that it counts as a failed attempt as
// the 404 would: otherwise a client without budget could tell unknown
// email addresses (429) from known ones (401) for free.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, c accounts.Credentials) (accounts.Session, error) {
	addr := peerOf(r).addr
	c.Client = addr // its share of password hashing
	if s.cfg.Limiter == nil || !addr.IsValid() || !c.MayCreate() {
		return s.cfg.Accounts.Authenticate(r.Context(), c)
	}
	c.Create = s.cfg.Limiter.TakeSignup(addr)
	if ri := info(w); !c.Create && !ri.attemptTaken {
		if !s.cfg.Limiter.TakeAttempt(addr) {
			return accounts.Session{}, tooManyAttempts(true)
		}
		ri.attemptTaken = true
	}
	sess, err := s.cfg.Accounts.Authenticate(r.Context(), c)
	var ae *accounts.Error
	switch {
	case c.Create && (err != nil || !sess.Created):
		s.cfg.Limiter.RefundSignup(addr)
	case !c.Create && errors.As(err, &ae) && ae.Code == abi.CodeNotFound:
		return sess, gatewayError(abi.CodeResourceExhausted, msgTooManySignups, err)
	}
	return sess, err
}

// refreshSession is the handler of POST /v2/account/session/refresh.
func (s *Server) refreshSession(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	var body struct {
		Token string            `json:"token"`
		Vars  map[string]string `json:"vars"`
	}
	if _, err := s.readJSON(w, r, &body); err != nil {
		return err
	}
	if err := s.checkServerKey(r); err != nil {
		return err
	}
	sess, err := s.cfg.Accounts.Refresh(r.Context(), body.Token, body.Vars)
	if err != nil {
		return err
	}
	return writeJSON(w, r, sessionJSON(sess))
}

// logout is the handler of POST /v2/session/logout, which answers {}.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	var body struct {
		Token        string `json:"token"`
		RefreshToken string `json:"refresh_token"`
	}
	if _, err := s.readJSON(w, r, &body); err != nil {
		return err
	}
	userID, err := s.sessionUser(r)
	if err != nil {
		return err
	}
	if err := s.cfg.Accounts.Logout(r.Context(), userID, body.Token, body.RefreshToken); err != nil {
		return err
	}
	return writeJSON(w, r, struct{}{})
}

// getAccount is the handler of GET /v2/account.
func (s *Server) getAccount(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	userID, err := s.sessionUser(r)
	if err != nil {
		return err
	}
	a, err := s.cfg.Accounts.Account(r.Context(), userID)
	if err != nil {
		return err
	}
	return writeJSON(w, r, accountJSON(a))
}

// checkServerKey applies Nakama's server key check: exactly one
// Authorization header, "Basic base64(key:anything)", whose user name is
// the server key (compared in constant time).
//
// # Errors
//
// 401 "Server key required" without exactly one header, 401 "Server key
// invalid" otherwise.
func (s *Server) checkServerKey(r *http.Request) error {
	auth := r.Header["Authorization"]
	if len(auth) != 1 {
		return gatewayError(abi.CodeUnauthenticated, msgServerKeyRequired, nil)
	}
	user, ok := parseBasic(auth[0])
	if !ok {
		return gatewayError(abi.CodeUnauthenticated, msgServerKeyInvalid, nil)
	}
	if !s.serverKey.matches(user) {
		return gatewayError(abi.CodeUnauthenticated, msgServerKeyInvalid, nil)
	}
	return nil
}

// sessionUser authenticates a request that needs a session, as Nakama's
// security interceptor does, and returns the user ID.
//
// # Errors
//
// 401 "Auth token required" without an Authorization header, and 401 "Auth
// token invalid" for several headers or a token that is not a valid,
// unrevoked session token.
func (s *Server) sessionUser(r *http.Request) (string, error) {
	auth := r.Header["Authorization"]
	switch len(auth) {
	case 0:
		return "", gatewayError(abi.CodeUnauthenticated, msgAuthTokenRequired, nil)
	case 1:
	default:
		return "", errAuthTokenInvalid(nil)
	}
	u, err := s.bearerUser(nil, r, auth[0])
	if err != nil {
		return "", err
	}
	return u.ID, nil
}
