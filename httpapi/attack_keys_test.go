package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/accounts"
)

// TestServer_httpKeyVariants attacks the HTTP key check, now a seeded
// hash and a byte comparison (secret), with the spellings a client might
// try: near misses are refused, and only the key itself, however the URL
// escapes it, is let through, as url.ParseQuery reads the query.
func TestServer_httpKeyVariants(t *testing.T) {
	s := startServer(t, Config{Caller: echo()})
	escapedAll := ""
	for i := range len(testHTTPKey) {
		escapedAll += fmt.Sprintf("%%%02X", testHTTPKey[i])
	}
	for _, tc := range []struct {
		name, query string
		header      http.Header
		want        int
	}{
		{"the key", "http_key=" + testHTTPKey, nil, http.StatusOK},
		{"the key, every byte escaped", "http_key=" + escapedAll, nil, http.StatusOK},
		{"a bad escape first, then the key", "http_key=%zz&http_key=" + testHTTPKey, nil, http.StatusOK},
		{"a prefix", "http_key=" + testHTTPKey[:len(testHTTPKey)-1], nil, http.StatusUnauthorized},
		{"the key and one byte more", "http_key=" + testHTTPKey + "x", nil, http.StatusUnauthorized},
		{"the key and a NUL", "http_key=" + testHTTPKey + "%00", nil, http.StatusUnauthorized},
		{"the key and a space", "http_key=" + testHTTPKey + "+", nil, http.StatusUnauthorized},
		{"upper case", "http_key=" + strings.ToUpper(testHTTPKey), nil, http.StatusUnauthorized},
		{"the key twice over", "http_key=" + testHTTPKey + testHTTPKey, nil, http.StatusUnauthorized},
		{"a wrong key first, then the key", "http_key=wrong&http_key=" + testHTTPKey, nil, http.StatusUnauthorized},
		{"the key in a pair url.ParseQuery skips", "http_key=" + testHTTPKey + ";x", nil, http.StatusUnauthorized},
		{"Basic, a prefix", "", http.Header{"Authorization": {basic(testHTTPKey[:3] + ":")}}, http.StatusUnauthorized},
		{"Basic, the key and more", "", http.Header{"Authorization": {basic(testHTTPKey + "x:")}}, http.StatusUnauthorized},
		{"Basic, the key as the password", "", http.Header{"Authorization": {basic(":" + testHTTPKey)}}, http.StatusUnauthorized},
		{"Basic, the key", "", http.Header{"Authorization": {basic(testHTTPKey + ":")}}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v2/rpc/echo?unwrap"
			if tc.query != "" {
				path += "&" + tc.query
			}
			if res := do(t, s, "POST", path, tc.header, "x"); res.status != tc.want {
				t.Errorf("%s: status %d %s, want %d", path, res.status, res.body, tc.want)
			}
		})
	}
}

// TestServer_LimiterFreshConnections attacks the limiter, which now reads
// the client's address from its connection's parse (peer), by spreading
// wrong keys over a new connection each: the limit is the address's, so
// the next good request, on yet another connection, is refused too.
func TestServer_LimiterFreshConnections(t *testing.T) {
	const burst = 3
	s, _ := startAccounts(t, Config{
		Caller:  &fakeCaller{fn: echoOnly},
		Limiter: accounts.NewLimiter(accounts.LimiterConfig{Burst: burst, Every: time.Hour}),
	})
	fresh := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range burst {
		if res := send(t, fresh, "POST", s.URL()+"/v2/rpc/echo?http_key=wrong"+url.QueryEscape(fmt.Sprint(i)), nil, ""); res.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i+1, res.status, res.body)
		}
	}
	if res := send(t, fresh, "POST", s.URL()+"/v2/rpc/echo?http_key="+testHTTPKey, nil, ""); res.status != http.StatusTooManyRequests {
		t.Fatalf("the key on a new connection after %d failures: %d %s, want 429", burst, res.status, res.body)
	}
}
