package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sync"
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
		return host.Result{}, &host.CallError{Code: abi.CodeNotFound, Refused: host.RefusedNotFound}
	}
	return host.Result{Output: req.Payload}, nil
}

// TestServer_LimiterSignups floods sign-ups from one address: the limiter
// cuts it off with 429 code 8 after its sign-up budget, while the address
// still logs in to an existing account and another address still signs up.
// Refused sign-ups count as failed attempts, as the 404s they stand for.
func TestServer_LimiterSignups(t *testing.T) {
	s, _ := startAccounts(t, Config{Limiter: accounts.NewLimiter(accounts.LimiterConfig{})})
	signup := func(from, id string) response {
		return doFrom(t, s, from, "POST", "/v2/account/authenticate/custom", serverKey(), `{"id":"`+id+`"}`)
	}
	for i := range accounts.DefaultSignupBurst {
		if res := signup("127.0.0.1", fmt.Sprintf("flood-%04d", i)); !apiSessionOf(t, res).Created {
			t.Fatalf("sign-up %d did not create: %s", i+1, res.body)
		}
	}
	wantResponse(t, signup("127.0.0.1", "flood-more-0"), http.StatusTooManyRequests, gw(8, msgTooManySignups), "")
	if sess := apiSessionOf(t, signup("127.0.0.1", "flood-0000")); sess.Created {
		t.Fatal("a login created an account")
	}
	if res := signup("127.0.0.2", "another-address"); !apiSessionOf(t, res).Created {
		t.Fatalf("another address did not sign up: %s", res.body)
	}
	for i := 1; i < accounts.DefaultLimiterBurst; i++ {
		wantResponse(t, signup("127.0.0.1", fmt.Sprintf("flood-more-%d", i)), http.StatusTooManyRequests, gw(8, msgTooManySignups), "")
	}
	wantResponse(t, signup("127.0.0.1", "flood-0000"), http.StatusTooManyRequests, gw(8, msgTooManyAttempts), "")
}

// TestServer_LimiterSignupsConcurrent sends twice the sign-up budget at
// once from one address: exactly the budget is created, since each sign-up
// takes its token before the account is looked up.
func TestServer_LimiterSignupsConcurrent(t *testing.T) {
	s, _ := startAccounts(t, Config{Limiter: accounts.NewLimiter(accounts.LimiterConfig{})})
	statuses := make(chan int, 2*accounts.DefaultSignupBurst)
	var wg sync.WaitGroup
	for i := range cap(statuses) {
		wg.Go(func() {
			res := doFrom(t, s, "127.0.0.1", "POST", "/v2/account/authenticate/custom", serverKey(), fmt.Sprintf(`{"id":"burst-%04d"}`, i))
			statuses <- res.status
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for st := range statuses {
		count[st]++
	}
	if count[http.StatusOK] != accounts.DefaultSignupBurst || count[http.StatusTooManyRequests] != accounts.DefaultSignupBurst {
		t.Fatalf("statuses %v, want %d of 200 and of 429", count, accounts.DefaultSignupBurst)
	}
}

// TestServer_LimiterUsernameProbes probes usernames through 409: an address
// is cut off with 429 code 8 after the failure burst, while another address
// still gets its answer.
func TestServer_LimiterUsernameProbes(t *testing.T) {
	s, _ := startAccounts(t, Config{Limiter: accounts.NewLimiter(accounts.LimiterConfig{})})
	probe := func(from, id string) response {
		return doFrom(t, s, from, "POST", "/v2/account/authenticate/custom?username=taken", serverKey(), `{"id":"`+id+`"}`)
	}
	apiSessionOf(t, probe("127.0.0.3", "owner-of-taken"))
	for i := range accounts.DefaultLimiterBurst {
		wantResponse(t, probe("127.0.0.1", fmt.Sprintf("prober-%d", i)), http.StatusConflict, gw(6, "Username is already in use."), "")
	}
	wantResponse(t, probe("127.0.0.1", "prober-last"), http.StatusTooManyRequests, gw(8, msgTooManyAttempts), "")
	wantResponse(t, probe("127.0.0.2", "prober-elsewhere"), http.StatusConflict, gw(6, "Username is already in use."), "")
}
