package outbound

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
)

func TestClient_redirects(t *testing.T) {
	var outsideHits atomic.Int32
	outside := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { outsideHits.Add(1) }))
	defer outside.Close()
	// other is granted, at another origin; it echoes what it got.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "auth=%q cookie=%q key=%q", r.Header.Get("Authorization"), r.Header.Get("Cookie"), r.Header.Get("X-Api-Key"))
	}))
	defer other.Close()
	po, pOut := port(t, other.URL), port(t, outside.URL)
	// start redirects /hop/N to /hop/N-1, /hop/0 to /echo, /out to the
	// outside server, /other to the other server.
	start := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/echo":
			fmt.Fprintf(w, "auth=%q", r.Header.Get("Authorization"))
		case strings.HasPrefix(r.URL.Path, "/hop/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
			next := "/echo"
			if n > 0 {
				next = fmt.Sprintf("/hop/%d", n-1)
			}
			http.Redirect(w, r, next, http.StatusFound)
		case r.URL.Path == "/out":
			http.Redirect(w, r, "http://outside.test:"+pOut+"/x?secret=1", http.StatusFound)
		case r.URL.Path == "/other":
			http.Redirect(w, r, "http://other.test:"+po+"/", http.StatusTemporaryRedirect)
		}
	}))
	defer start.Close()
	ps := port(t, start.URL)
	res := &fakeResolver{table: map[string][]netip.Addr{
		"start.test": addrs("127.0.0.1"), "other.test": addrs("127.0.0.1"), "outside.test": addrs("127.0.0.1")}}
	// Loopback is granted only on start's and other's ports.
	c := testClient(t, []string{"http://start.test:" + ps, "http://other.test:" + po,
		"http://127.0.0.1:" + ps, "http://127.0.0.1:" + po}, res, nil)
	ctx := context.Background()
	auth := [][2]string{{"Authorization", "Bearer t"}, {"Cookie", "c=1"}, {"X-Api-Key", "k"}}
	base := "http://start.test:" + ps

	t.Run("OKSameOriginKeepsAuthorization", func(t *testing.T) {
		r, e := c.Do(ctx, abi.HTTPRequest{URL: base + "/hop/4", Headers: auth})
		if e != nil || string(r.Body) != `auth="Bearer t"` {
			t.Fatalf("%v %q", e, r.Body)
		}
	})
	t.Run("OKCrossOriginDropsSensitiveHeaders", func(t *testing.T) {
		r, e := c.Do(ctx, abi.HTTPRequest{Method: "POST", URL: base + "/other", Headers: auth, Body: []byte("b")})
		if e != nil || string(r.Body) != `auth="" cookie="" key=""` {
			t.Fatalf("%v %q", e, r.Body)
		}
	})
	t.Run("ErrNotGrantedHop", func(t *testing.T) {
		_, e := c.Do(ctx, get(base+"/out"))
		wantStatus(t, e, abi.StatusNotGranted)
		if strings.Contains(e.Msg, "secret") || !strings.Contains(e.Msg, "outside.test:"+pOut+"/x") {
			t.Errorf("message %q should name the hop without its query", e.Msg)
		}
		if outsideHits.Load() != 0 {
			t.Error("the refused hop was requested")
		}
	})
	t.Run("OKFiveRedirects", func(t *testing.T) {
		if _, e := c.Do(ctx, get(base+"/hop/4")); e != nil { // 4 hops and /echo: 5 redirects
			t.Fatal(e)
		}
	})
	t.Run("ErrTooManyRedirects", func(t *testing.T) {
		_, e := c.Do(ctx, get(base+"/hop/5"))
		wantStatus(t, e, abi.StatusHTTPFailed)
		if !strings.Contains(e.Msg, "redirects") {
			t.Errorf("message %q", e.Msg)
		}
	})
}

func TestClient_timeouts(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	// silent accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	c := testClient(t, []string{"http://127.0.0.1:*"}, nil, func(_ *Config, cc *ClientConfig) { cc.Timeout = 300 * time.Millisecond })

	for _, u := range []string{slow.URL, "http://" + silent.Addr().String()} {
		t.Run("ErrOwnTimeout", func(t *testing.T) {
			_, e := c.Do(context.Background(), get(u+"/"))
			wantStatus(t, e, abi.StatusHTTPFailed)
			if !strings.Contains(e.Msg, "timed out") {
				t.Errorf("message %q", e.Msg)
			}
		})
	}
	t.Run("ErrShorterRequestTimeout", func(t *testing.T) {
		c := testClient(t, []string{"http://127.0.0.1:*"}, nil, nil) // configured 10 s
		_, e := c.Do(context.Background(), abi.HTTPRequest{URL: slow.URL, TimeoutMS: 200})
		wantStatus(t, e, abi.StatusHTTPFailed)
	})
	t.Run("ErrCallDeadline", func(t *testing.T) {
		c := testClient(t, []string{"http://127.0.0.1:*"}, nil, nil) // configured 10 s
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, e := c.Do(ctx, get(slow.URL))
		wantStatus(t, e, abi.StatusCancelled)
	})
}

func TestClient_responseCap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("len") == "1" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		for range n / 1024 {
			w.Write(make([]byte, 1024))
			w.(http.Flusher).Flush() // chunked: no length to check up front
		}
		w.Write(make([]byte, n%1024))
	}))
	defer srv.Close()
	c := testClient(t, []string{"http://127.0.0.1:*"}, nil, func(_ *Config, cc *ClientConfig) { cc.MaxResponseBytes = 10 << 10 })
	for _, tt := range []struct {
		n, len string
		ok     bool
	}{{"10240", "0", true}, {"10240", "1", true}, {"10241", "0", false}, {"10241", "1", false}, {"10000000", "0", false}} {
		r, e := c.Do(context.Background(), get(srv.URL+"/?n="+tt.n+"&len="+tt.len))
		switch {
		case tt.ok && (e != nil || strconv.Itoa(len(r.Body)) != tt.n):
			t.Errorf("n=%s len=%s: %v, %d bytes", tt.n, tt.len, e, len(r.Body))
		case !tt.ok && (e == nil || e.Status != abi.StatusLimitExceeded):
			t.Errorf("n=%s len=%s: %v, want LIMIT_EXCEEDED", tt.n, tt.len, e)
		}
	}
	// A HEAD of a large resource has its length and no body.
	r, e := c.Do(context.Background(), abi.HTTPRequest{Method: "HEAD", URL: srv.URL + "/?n=10000000&len=1"})
	if e != nil || r.Status != 200 || len(r.Body) != 0 {
		t.Errorf("HEAD of a large resource: %v %+v", e, r.Status)
	}
}

// TestClient_concurrencyBound: past the plugin's bound, a request waits
// for a slot and fails with LIMIT_EXCEEDED when none frees in time.
func TestClient_concurrencyBound(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	c := testClient(t, []string{"http://127.0.0.1:*"}, nil, func(cfg *Config, _ *ClientConfig) { cfg.MaxRequestsPerPlugin = 1 })
	done := make(chan *Error)
	go func() {
		_, e := c.Do(context.Background(), get(srv.URL+"/slow"))
		done <- e
	}()
	<-entered
	_, e := c.Do(context.Background(), abi.HTTPRequest{URL: srv.URL + "/fast", TimeoutMS: 200})
	wantStatus(t, e, abi.StatusLimitExceeded)
	close(release)
	if e := <-done; e != nil {
		t.Fatal(e)
	}
	if _, e := c.Do(context.Background(), get(srv.URL+"/fast")); e != nil {
		t.Fatalf("after the slow request ended: %v", e)
	}
}

// TestClient_reusesConnections: a plugin's sequential requests to one
// origin share one connection.
func TestClient_reusesConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := testClient(t, []string{"http://127.0.0.1:*"}, nil, nil)
	for range 5 {
		if _, e := c.Do(context.Background(), get(srv.URL+"/")); e != nil {
			t.Fatal(e)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("5 requests opened %d connections, want 1", n)
	}
}
