package httpapi

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/warden-rpc/warden/accounts"
)

// TestServer_HashFlood signs up from many addresses at once, each within
// its own budget, with email accounts whose passwords cost a bcrypt hash
// each, mixed with email logins that cost a comparison. At no time do more
// hashes run than the service's worker bound, every refusal is 503 code
// 14, and an RPC sent meanwhile completes (within doFrom's generous
// client timeout).
func TestServer_HashFlood(t *testing.T) {
	s, _, svc := startAccountsWith(t, Config{Limiter: accounts.NewLimiter(accounts.LimiterConfig{})},
		accounts.Config{BcryptCost: 8})
	const clients = 48
	login := `{"email":"known@example.com","password":"password-known"}`
	apiSessionOf(t, doFrom(t, s, "127.0.0.2", "POST", "/v2/account/authenticate/email", serverKey(), login))
	results := make(chan response, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			body := fmt.Sprintf(`{"email":"flood-%d@example.com","password":"password-%d"}`, i, i)
			if i%4 == 0 {
				body = login
			}
			results <- doFrom(t, s, fmt.Sprintf("127.0.1.%d", i+1), "POST", "/v2/account/authenticate/email", serverKey(), body)
		})
	}
	rpc := doFrom(t, s, "127.0.0.3", "POST", "/v2/rpc/echo?http_key="+testHTTPKey, nil, `"{}"`)
	wg.Wait()
	close(results)
	if rpc.status != http.StatusOK {
		t.Fatalf("RPC during the flood: %d %s", rpc.status, rpc.body)
	}
	served := 0
	for res := range results {
		if res.status == http.StatusOK {
			served++
			continue
		}
		wantResponse(t, res, http.StatusServiceUnavailable, gw(14, "Server busy, try again later."), "")
	}
	st := svc.HashStats()
	t.Logf("%d of %d served; hashes: %+v", served, clients, st)
	if served == 0 || st.Peak < 1 || st.Peak > st.Workers {
		t.Fatalf("%d served; peak of %d hashes at once, bound %d", served, st.Peak, st.Workers)
	}
}
