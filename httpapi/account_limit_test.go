package httpapi

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/accounts"
	"github.com/warden-rpc/warden/host"
)

// TestServer_Limiter checks which failures count against a client and that
// a client over its limit is refused, in each endpoint's error shape, even
// with the right credentials.
func TestServer_Limiter(t *testing.T) {
	const burst = 3
	limitedGW := gw(8, msgTooManyAttempts)
	limitedRPC := regexp.QuoteMeta(string(fixedBody(8, msgTooManyAttempts)))
	wrongKey := http.Header{"Authorization": {basic("wrong:")}}
	expired := validClaims()
	expired.ExpiresAt = time.Now().Add(-time.Minute).Unix()
	tests := []struct {
		name      string
		fail      func(t *testing.T, s *Server) response // one attempt
		wantCount bool                                   // whether it counts
		then      func(t *testing.T, s *Server) response // a good request afterwards
		limited   string                                 // its body when limited
	}{
		{"WrongServerKey", func(t *testing.T, s *Server) response {
			return do(t, s, "POST", "/v2/account/authenticate/custom", wrongKey, `{"id":"custom-alice"}`)
		}, true, func(t *testing.T, s *Server) response {
			return do(t, s, "POST", "/v2/account/authenticate/custom", serverKey(), `{"id":"custom-alice"}`)
		}, limitedGW},
		{"UnknownUser", func(t *testing.T, s *Server) response {
			return do(t, s, "POST", "/v2/account/authenticate/custom?create=false", serverKey(), `{"id":"custom-nobody"}`)
		}, true, func(t *testing.T, s *Server) response {
			return do(t, s, "POST", "/v2/account/authenticate/custom", serverKey(), `{"id":"custom-alice"}`)
		}, limitedGW},
		{"WrongHTTPKey", func(t *testing.T, s *Server) response {
			return do(t, s, "POST", "/v2/rpc/echo?http_key=wrong", nil, "")
		}, true, func(t *testing.T, s *Server) response {
			return do(t, s, "POST", "/v2/rpc/echo?http_key="+testHTTPKey, nil, "")
		}, limitedRPC},
		{"ForgedToken", func(t *testing.T, s *Server) response {
			return do(t, s, "GET", "/v2/account", auth(token(t, []byte("not-the-key"), validClaims())), "")
		}, true, func(t *testing.T, s *Server) response {
			return do(t, s, "POST", "/v2/rpc/echo", bearer(t), "")
		}, limitedRPC},
		{"ExpiredTokenIsNotCounted", func(t *testing.T, s *Server) response {
			return do(t, s, "POST", "/v2/rpc/echo", auth(token(t, testEncKey, expired)), "")
		}, false, func(t *testing.T, s *Server) response {
			return do(t, s, "POST", "/v2/rpc/echo", bearer(t), "")
		}, ""},
		{"UnknownRPCIsNotCounted", func(t *testing.T, s *Server) response {
			return do(t, s, "POST", "/v2/rpc/nope?http_key="+testHTTPKey, nil, "")
		}, false, func(t *testing.T, s *Server) response {
			return do(t, s, "POST", "/v2/rpc/echo?http_key="+testHTTPKey, nil, "")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := startAccounts(t, Config{
				Caller:  &fakeCaller{fn: echoOnly},
				Limiter: accounts.NewLimiter(accounts.LimiterConfig{Burst: burst, Every: time.Hour}),
			})
			do(t, s, "POST", "/v2/account/authenticate/custom", serverKey(), `{"id":"custom-alice"}`)
			for i := range burst + 1 {
				if res := tt.fail(t, s); res.status < 400 || (tt.wantCount && i == burst) != (res.status == http.StatusTooManyRequests) {
					t.Fatalf("attempt %d: %d %s", i+1, res.status, res.body)
				}
			}
			res := tt.then(t, s)
			if !tt.wantCount {
				if res.status != http.StatusOK {
					t.Fatalf("good request refused after uncounted failures: %d %s", res.status, res.body)
				}
				return
			}
			wantResponse(t, res, http.StatusTooManyRequests, tt.limited, "")
		})
	}
}

// echoOnly serves the RPC echo and answers the host's 404 for any other id.
func echoOnly(_ context.Context, req *host.Request) (host.Result, error) {
	if req.ID != "echo" {
		return host.Result{}, &host.CallError{Code: abi.CodeNotFound, Message: "RPC function not found"}
	}
	return host.Result{Output: req.Payload}, nil
}
