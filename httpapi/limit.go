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
}

// limited refuses requests from a client that failed to authenticate too
// often, before h runs, and records h's failures. A failure is a 401 other
// than for an expired or revoked session token (a genuine token, which a
// client legitimately still holds), and under rule.notFound an
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
		if !s.cfg.Limiter.Allow(addr) {
			if rule.gateway {
				return gatewayError(abi.CodeResourceExhausted, msgTooManyAttempts, nil)
			}
			return newError(abi.CodeResourceExhausted, msgTooManyAttempts, nil)
		}
		err := h(w, r, ps)
		if err != nil && isAuthFailure(err, rule) { // nil first: isAuthFailure's errors.As allocates
			s.cfg.Limiter.Fail(addr)
		}
		return err
	}
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
