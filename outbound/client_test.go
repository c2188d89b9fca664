package outbound

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
)

// fakeResolver answers from a table; answer, when set, decides per lookup.
type fakeResolver struct {
	mu      sync.Mutex
	lookups map[string]int
	table   map[string][]netip.Addr
	answer  func(host string, n int) []netip.Addr
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lookups == nil {
		r.lookups = map[string]int{}
	}
	r.lookups[host]++
	if r.answer != nil {
		return r.answer(host, r.lookups[host]), nil
	}
	if a, ok := r.table[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r *fakeResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups[host]
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// testClient returns a client with grants, the given resolver and cfg
// tweaks.
func testClient(t *testing.T, grants []string, res Resolver, tweak func(*Config, *ClientConfig)) *Client {
	t.Helper()
	p, err := ParsePolicy(grants)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Resolver: res, Logger: zerolog.New(zerolog.NewTestWriter(t))}
	cc := ClientConfig{Plugin: "fetch", Policy: p, Timeout: 10 * time.Second,
		MaxRequestBytes: abi.DefaultOutboundMaxRequestBytes, MaxResponseBytes: abi.DefaultOutboundMaxResponseBytes}
	if tweak != nil {
		tweak(&cfg, &cc)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := s.NewClient(cc)
	t.Cleanup(c.Close)
	return c
}

func get(url string) abi.HTTPRequest { return abi.HTTPRequest{Method: "GET", URL: url} }

// port returns the port of a test server's URL.
func port(t *testing.T, rawURL string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(rawURL, "http://"), "https://"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func wantStatus(t *testing.T, e *Error, want abi.Status) {
	t.Helper()
	if e == nil {
		t.Fatalf("request succeeded, want %s", want)
	}
	if e.Status != want {
		t.Fatalf("status %s (%s), want %s", e.Status, e.Msg, want)
	}
}

func TestClient_allowedAndRefused(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), r.Header.Get("X-Test"))
	}))
	defer srv.Close()
	p := port(t, srv.URL)
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		c := testClient(t, []string{"http://127.0.0.1:" + p}, nil, nil)
		res, e := c.Do(ctx, abi.HTTPRequest{Method: "POST", URL: srv.URL + "/a?b=1", Headers: [][2]string{{"x-test", "yes"}}, Body: []byte("x")})
		if e != nil {
			t.Fatal(e)
		}
		if res.Status != http.StatusTeapot || string(res.Body) != "POST /a?b=1 yes" {
			t.Fatalf("got %d %q", res.Status, res.Body)
		}
		var multi []string
		for _, h := range res.Headers {
			if h[0] != strings.ToLower(h[0]) {
				t.Errorf("header name %q is not lower case", h[0])
			}
			if h[0] == "x-multi" {
				multi = append(multi, h[1])
			}
		}
		if strings.Join(multi, ",") != "a,b" {
			t.Errorf("x-multi values %v, want a, b", multi)
		}
	})
	t.Run("ErrNotGranted", func(t *testing.T) {
		before := hits.Load()
		for _, grants := range [][]string{nil, {"http://127.0.0.1:1"}, {"https://127.0.0.1:*"}, {"http://localhost:*"}, {"http://127.0.0.2:*"}} {
			c := testClient(t, grants, nil, nil)
			_, e := c.Do(ctx, get(srv.URL+"/secret?token=s3cr3t"))
			wantStatus(t, e, abi.StatusNotGranted)
			want := fmt.Sprintf(`http_request: GET http://127.0.0.1:%s/secret not allowed by the grants of plugin "fetch"`, p)
			if e.Msg != want {
				t.Errorf("grants %v: message %q, want %q", grants, e.Msg, want)
			}
		}
		if hits.Load() != before {
			t.Error("a refused request reached the server")
		}
	})
	t.Run("ErrBadArgument", func(t *testing.T) {
		c := testClient(t, []string{"http://127.0.0.1:*"}, nil, nil)
		for _, r := range []abi.HTTPRequest{
			{Method: "GE T", URL: srv.URL}, {Method: "CONNECT", URL: srv.URL}, {URL: "/relative"}, {URL: "ftp://127.0.0.1/"},
			{URL: "http://[fe80::1%25eth0]:" + p + "/"},
			{URL: "http://user:pw@127.0.0.1:" + p + "/"}, {URL: "mailto:x@example.com"},
			{URL: srv.URL, Headers: [][2]string{{"Host", "evil.example"}}},
			{URL: srv.URL, Headers: [][2]string{{"transfer-encoding", "chunked"}}},
			{URL: srv.URL, Headers: [][2]string{{"Proxy-Authorization", "x"}}},
			{URL: srv.URL, Headers: [][2]string{{"X-A", "a\r\nX-B: b"}}},
			{URL: srv.URL, Headers: [][2]string{{"Bad Name", "x"}}},
		} {
			_, e := c.Do(ctx, r)
			if e == nil || e.Status != abi.StatusBadArgument {
				t.Errorf("%+v: %v, want BAD_ARGUMENT", r, e)
			}
		}
	})
	t.Run("ErrLimitExceeded", func(t *testing.T) {
		c := testClient(t, []string{"http://127.0.0.1:*"}, nil, func(_ *Config, cc *ClientConfig) { cc.MaxRequestBytes = 10 })
		many := make([][2]string, abi.MaxOutboundHeaders+1)
		for i := range many {
			many[i] = [2]string{"X-H", "v"}
		}
		for _, r := range []abi.HTTPRequest{
			{URL: srv.URL + "/" + strings.Repeat("a", abi.MaxURLBytes)},
			{URL: srv.URL, Headers: many},
			{Method: "POST", URL: srv.URL, Body: make([]byte, 11)},
		} {
			_, e := c.Do(ctx, r)
			if e == nil || e.Status != abi.StatusLimitExceeded {
				t.Errorf("%.60s: %v, want LIMIT_EXCEEDED", r.URL, e)
			}
		}
	})
}

// TestClient_addressClasses: a granted name that resolves to a special
// address is refused before any connection, unless a grant names the
// address.
func TestClient_addressClasses(t *testing.T) {
	special := []string{"127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "169.254.169.254",
		"224.0.0.1", "0.0.0.0", "255.255.255.255", "::1", "::", "fc00::1", "fe80::1", "ff02::1",
		"::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe"}
	for _, a := range special {
		res := &fakeResolver{table: map[string][]netip.Addr{"svc.test": addrs(a)}}
		c := testClient(t, []string{"http://svc.test:*"}, res, nil)
		_, e := c.Do(context.Background(), get("http://svc.test:9/"))
		wantStatus(t, e, abi.StatusNotGranted)
		if !strings.Contains(e.Msg, "special addresses that no grant names") {
			t.Errorf("%s: message %q does not say why", a, e.Msg)
		}
		if strings.Contains(e.Msg, netip.MustParseAddr(a).Unmap().String()) || e.Detail != netip.MustParseAddr(a).Unmap().String() {
			t.Errorf("%s: message %q, detail %q: the address is for the log's detail only", a, e.Msg, e.Detail)
		}
	}
}

func TestClient_nameResolvingToLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	p := port(t, srv.URL)
	res := &fakeResolver{table: map[string][]netip.Addr{"svc.test": addrs("127.0.0.1")}}
	url := "http://svc.test:" + p + "/"

	t.Run("ErrNotGranted", func(t *testing.T) {
		c := testClient(t, []string{"http://svc.test:*"}, res, nil)
		_, e := c.Do(context.Background(), get(url))
		wantStatus(t, e, abi.StatusNotGranted)
	})
	t.Run("OK", func(t *testing.T) { // the grant names loopback explicitly
		c := testClient(t, []string{"http://svc.test:*", "http://127.0.0.1:*"}, res, nil)
		if r, e := c.Do(context.Background(), get(url)); e != nil || string(r.Body) != "ok" {
			t.Fatalf("%v %q", e, r.Body)
		}
	})
	t.Run("OKFallsToTheGrantedAddress", func(t *testing.T) {
		res := &fakeResolver{table: map[string][]netip.Addr{"svc.test": addrs("169.254.169.254", "127.0.0.1")}}
		c := testClient(t, []string{"http://svc.test:*", "http://127.0.0.0/8:" + p}, res, nil)
		if r, e := c.Do(context.Background(), get(url)); e != nil || string(r.Body) != "ok" {
			t.Fatalf("%v %q", e, r.Body)
		}
	})
}

// TestClient_rebinding: the name is resolved once per connection, and the
// connection goes to the address that was checked, whatever later answers
// say.
func TestClient_rebinding(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	p := port(t, srv.URL)
	grants := []string{"http://rebind.test:*", "http://127.0.0.1:" + p}

	t.Run("OK", func(t *testing.T) { // checked 127.0.0.1 (granted); later answers are metadata
		res := &fakeResolver{answer: func(_ string, n int) []netip.Addr {
			if n == 1 {
				return addrs("127.0.0.1")
			}
			return addrs("169.254.169.254")
		}}
		c := testClient(t, grants, res, nil)
		if r, e := c.Do(context.Background(), get("http://rebind.test:"+p+"/")); e != nil || string(r.Body) != "ok" {
			t.Fatalf("%v %q", e, r.Body)
		}
		if n := res.count("rebind.test"); n != 1 {
			t.Fatalf("resolved %d times for one connection, want 1", n)
		}
	})
	t.Run("ErrNotGranted", func(t *testing.T) { // checked metadata (refused); a second look-up would say loopback
		res := &fakeResolver{answer: func(_ string, n int) []netip.Addr {
			if n == 1 {
				return addrs("169.254.169.254")
			}
			return addrs("127.0.0.1")
		}}
		c := testClient(t, grants, res, nil)
		_, e := c.Do(context.Background(), get("http://rebind.test:"+p+"/"))
		wantStatus(t, e, abi.StatusNotGranted)
		if n := res.count("rebind.test"); n != 1 {
			t.Fatalf("resolved %d times, want 1", n)
		}
	})
}

// writeCA writes srv's certificate as a PEM file and returns its path.
func writeCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestClient_TLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	p := port(t, srv.URL)
	ca := writeCA(t, srv)
	// httptest's certificate is for example.com and 127.0.0.1.
	res := &fakeResolver{table: map[string][]netip.Addr{"example.com": addrs("127.0.0.1"), "other.test": addrs("127.0.0.1")}}
	grants := []string{"https://example.com:*", "https://other.test:*", "https://127.0.0.1:*"}

	t.Run("OK", func(t *testing.T) {
		c := testClient(t, grants, res, func(cfg *Config, _ *ClientConfig) { cfg.CAFile = ca })
		for _, u := range []string{srv.URL + "/", "https://example.com:" + p + "/"} {
			r, e := c.Do(context.Background(), get(u))
			if e != nil {
				t.Fatal(e)
			}
			if string(r.Body) != "HTTP/2.0" {
				t.Errorf("%s: served over %q, want HTTP/2.0", u, r.Body)
			}
		}
	})
	t.Run("ErrUnknownAuthority", func(t *testing.T) {
		c := testClient(t, grants, res, nil)
		_, e := c.Do(context.Background(), get(srv.URL+"/"))
		wantStatus(t, e, abi.StatusHTTPFailed)
		if !strings.Contains(e.Msg, "certificate") {
			t.Errorf("message %q does not name the certificate", e.Msg)
		}
	})
	t.Run("ErrWrongName", func(t *testing.T) {
		c := testClient(t, grants, res, func(cfg *Config, _ *ClientConfig) { cfg.CAFile = ca })
		_, e := c.Do(context.Background(), get("https://other.test:"+p+"/"))
		wantStatus(t, e, abi.StatusHTTPFailed)
	})
	t.Run("ErrBadCAFile", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.pem")
		os.WriteFile(bad, []byte("not a certificate"), 0o600)
		if _, err := New(Config{CAFile: bad}); err == nil {
			t.Error("a CA file with no certificate was accepted")
		}
	})
}

// TestClient_proxyIgnored: proxy environment variables do not reroute
// requests, and no cookie is kept between requests.
func TestClient_proxyAndCookiesIgnored(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { proxied.Add(1) }))
	defer proxy.Close()
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "1"})
		io.WriteString(w, r.Header.Get("Cookie"))
	}))
	defer srv.Close()
	p := port(t, srv.URL)
	res := &fakeResolver{table: map[string][]netip.Addr{"svc.test": addrs("127.0.0.1")}}
	c := testClient(t, []string{"http://svc.test:*", "http://127.0.0.1:*"}, res, nil)
	for range 2 {
		r, e := c.Do(context.Background(), get("http://svc.test:"+p+"/"))
		if e != nil {
			t.Fatal(e)
		}
		if len(r.Body) != 0 {
			t.Errorf("the server got a cookie: %q", r.Body)
		}
	}
	if proxied.Load() != 0 {
		t.Error("a request went through the proxy of the environment")
	}
}
