package httpapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/accounts"
	"github.com/warden-rpc/warden/host"
)

// Authorization schemes, matched case-sensitively as Nakama does.
const (
	prefixBasic  = "Basic "
	prefixBearer = "Bearer "
)

// authenticate applies Nakama's RPC authentication and returns the caller:
// nil for a server-to-server call made with the HTTP key, the session's user
// otherwise. key is the request's http_key query parameter (its first
// value, "" when absent).
//
// In order: a non-empty http_key query parameter wins over any Authorization
// header (so a Bearer token sent with it is ignored); then an Authorization
// header of the form "Basic base64(key:anything)" whose user name is the
// HTTP key; then any other Authorization header, which must be
// "Bearer <session token>". A Basic header that does not decode to
// "user:password" is treated as a bad token, as in Nakama.
//
// # Errors
//
// The errors are Nakama's 401s: "HTTP key invalid", "Auth token invalid" and
// "Auth token or HTTP key required".
//
// The user is held in w's request memory when w came from the middleware
// (see hostUser); w may be nil.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, key string) (*host.User, error) {
	if key != "" {
		if !s.isHTTPKey(key) {
			return nil, errHTTPKeyInvalid()
		}
		return nil, nil
	}
	auth, ok := r.Header["Authorization"]
	if !ok || len(auth) == 0 {
		return nil, errNoAuth()
	}
	if user, ok := parseBasic(auth[0]); ok {
		if !s.isHTTPKey(user) {
			return nil, errHTTPKeyInvalid()
		}
		return nil, nil
	}
	return s.bearerUser(w, r, auth[0])
}

// isHTTPKey reports whether key is the HTTP key, in a time that leaks
// neither the key's bytes nor its length (see secret).
func (s *Server) isHTTPKey(key string) bool { return s.httpKey.matches(key) }

// parseBasic returns the user name of a Basic Authorization header, and
// false when the header is not Basic or does not decode to "user:password".
func parseBasic(auth string) (string, bool) {
	enc, ok := strings.CutPrefix(auth, prefixBasic)
	if !ok {
		return "", false
	}
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", false
	}
	user, _, ok := strings.Cut(string(dec), ":")
	return user, ok
}

// bearerUser verifies a Bearer session token and asks the SessionChecker,
// if any, whether the session is still valid. Verified tokens are
// remembered until they expire (session.Verifier); the SessionChecker is
// asked on every request all the same, so a revocation takes effect at
// once. The user is held in w's request memory, as in authenticate.
func (s *Server) bearerUser(w http.ResponseWriter, r *http.Request, auth string) (*host.User, error) {
	token, ok := strings.CutPrefix(auth, prefixBearer)
	if !ok {
		return nil, errAuthTokenInvalid(errors.New("not a Basic or Bearer authorization"))
	}
	c, err := s.verifier.Verify(token, s.cfg.now())
	if err != nil {
		return nil, errAuthTokenInvalid(err)
	}
	if s.cfg.Sessions != nil {
		if err := s.cfg.Sessions.SessionValid(r.Context(), c); errors.Is(err, accounts.ErrUnavailable) {
			// A cluster node that could not check: retryable, not a bad token.
			return nil, newError(abi.CodeUnavailable, msgSessionUnchecked, err)
		} else if err != nil {
			return nil, errAuthTokenInvalid(fmt.Errorf("session %s: %w", c.TokenID, err))
		}
	}
	// The verifier gives the user ID in lowercase, as Nakama does.
	u := hostUser(w)
	*u = host.User{ID: c.UserID, Username: c.Username, Vars: c.Vars, Expiry: c.ExpiresAt}
	return u, nil
}
