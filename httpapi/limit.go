package httpapi

import (
	"errors"
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/accounts"
	"github.com/warden-rpc/warden/session"
)

// limitRule says how a route takes part in rate limiting.
type limitRule struct {
	// gateway answers a refusal in the gateway shape, not the RPC one.
	gateway bool
	// notFound counts the accounts service's 404s and 409s as failures: on
	// the authenticate endpoints they tell whether an account exists or a
	// username is taken.
	notFound bool
	// reserve takes the attempt from the client's budget before h runs and
	// gives it back unless h failed (accounts.Limiter.TakeAttempt), for
	// endpoints that check a password or tell whether an account exists:
	// there, requests sent together must not all pass before any fails.
	// Routes that check a key or a signed token, which cannot be guessed,
	// ask and record instead, which costs a request that succeeds nothing.
	reserve bool
	// reserveLogins reserves as reserve does for a request with
	// create=false: a login that fails when the ID is unknown. A sign-up
	// (create=true, the default) is bounded by the sign-up budget, which
	// it reserves already (signIn), and reserving a failure too would cap
	// a burst of sign-ups from one address at the failure budget.
	reserveLogins bool
}

// reserves reports whether r's attempt is taken before it runs (reserve,
// reserveLogins).
func (rule limitRule) reserves(r *http.Request) bool {
	if rule.reserve {
		return true
	}
	if !rule.reserveLogins {
		return false
	}
	create, _, err := authenticateQuery(r.URL.Query())
	return err == nil && !create
}

// limited refuses requests from a client that failed to authenticate too
// often, before h runs, and records h's failures (when rule.reserves the
// request, it takes the attempt beforehand and gives it back unless it
// failed). A failure is a 401 other than for an expired or revoked session
// token (a genuine token, which a client legitimately still holds), and
// under rule.notFound an
// *accounts.Error with code 5 or 6 in the error's chain. Without
// a Limiter, or for a request whose peer address does not parse, h runs
// unlimited.
//
// # Errors
//
// 429 with code 8 when the client is over its limit.
func (s *Server) limited(h handlerFunc, rule limitRule) handlerFunc {
	if s.cfg.Limiter == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		addr := peerOf(r).addr
		if !addr.IsValid() {
			return h(w, r, ps)
		}
		ri := info(w)
		var ok bool
		if rule.reserves(r) {
			ok = s.cfg.Limiter.TakeAttempt(addr)
			ri.attemptTaken = ok
		} else {
			ok = s.cfg.Limiter.Allow(addr)
		}
		if !ok {
			return tooManyAttempts(rule.gateway)
		}
		err := h(w, r, ps)
		failed := err != nil && isAuthFailure(err, rule) // nil first: isAuthFailure's errors.As allocates
		switch {                                         // signIn may have taken the attempt itself
		case ri.attemptTaken && !failed:
			s.cfg.Limiter.RefundAttempt(addr)
		case !ri.attemptTaken && failed:
			s.cfg.Limiter.Fail(addr)
		}
		return err
	}
}

// tooManyAttempts is the refusal of a client out of its failure budget,
// in the gateway shape or the RPC one.
func tooManyAttempts(gateway bool) error {
	if gateway {
		return gatewayError(abi.CodeResourceExhausted, msgTooManyAttempts, nil)
	}
	return newError(abi.CodeResourceExhausted, msgTooManyAttempts, nil)
}

// isAuthFailure reports whether err counts against the client's limit.
func isAuthFailure(err error, rule limitRule) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	if e.Code == abi.CodeUnauthenticated {
		return !errors.Is(err, session.ErrExpired) && !errors.Is(err, accounts.ErrRevoked)
	}
	var ae *accounts.Error
	return rule.notFound && errors.As(err, &ae) && (ae.Code == abi.CodeNotFound || ae.Code == abi.CodeAlreadyExists)
}
