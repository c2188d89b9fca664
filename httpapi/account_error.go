package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"

	"github.com/julienschmidt/httprouter"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/accounts"
	"github.com/warden-rpc/warden/session"
)

// gatewayError returns an Error in grpc-gateway's shape, which Nakama's
// non-RPC endpoints answer with: {"code":N,"message":"..."}, no "error"
// key. Server.writeError writes it like any other Error.
func gatewayError(code abi.Code, msg string, cause error) *Error {
	return &Error{Status: code.HTTPStatus(), Code: code, Msg: msg, Err: cause, raw: gatewayBody(code, msg)}
}

// gatewayBody returns {"code":code,"message":msg}.
func gatewayBody(code abi.Code, msg string) string {
	b, _ := json.Marshal(struct {
		Code    abi.Code `json:"code"`
		Message string   `json:"message"`
	}{code, msg})
	return string(b)
}

// gateway adapts a handler of the account API to grpc-gateway's error
// handling: every error is answered in the gateway shape, keeping an
// *accounts.Error's or an *Error's code and message, and a code 16 sets
// WWW-Authenticate to the message, as grpc-gateway's
// DefaultHTTPErrorHandler does.
func gateway(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		err := h(w, r, ps)
		if err == nil {
			return nil
		}
		e := toGateway(err)
		if e.Code == abi.CodeUnauthenticated {
			w.Header().Set("WWW-Authenticate", e.Msg)
		}
		return e
	}
}

// toGateway returns err as a gateway-shaped *Error.
func toGateway(err error) *Error {
	var (
		ae *accounts.Error
		e  *Error
	)
	switch {
	case errors.As(err, &e) && e.raw != "":
		return e // already in the gateway shape, as "request body too large"
	case errors.As(err, &ae):
		return gatewayError(ae.Code.Normalize(), ae.Msg, err)
	case e != nil:
		return gatewayError(e.Code, e.Msg, e.Err)
	}
	return gatewayError(abi.CodeInternal, msgInternal, err)
}

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
		ap, perr := netip.ParseAddrPort(r.RemoteAddr)
		if perr != nil {
			return h(w, r, ps)
		}
		if !s.cfg.Limiter.Allow(ap.Addr()) {
			if rule.gateway {
				return gatewayError(abi.CodeResourceExhausted, msgTooManyAttempts, nil)
			}
			return newError(abi.CodeResourceExhausted, msgTooManyAttempts, nil)
		}
		err := h(w, r, ps)
		if isAuthFailure(err, rule) {
			s.cfg.Limiter.Fail(ap.Addr())
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
