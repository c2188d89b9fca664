package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// variants are the floor's guests and deadlines.
var variants = []options{{}, {deadline: time.Second}, {hostCalls: true}, {hostCalls: true, deadline: time.Second}}

// newTestServer starts the floor with o and key "k" on a real listener.
func newTestServer(t *testing.T, o options) (*echo, *httptest.Server) {
	t.Helper()
	e, err := newEcho(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newRouter(e, "k"))
	t.Cleanup(func() {
		srv.Close()
		e.close(context.Background())
	})
	return e, srv
}

// post sends body to the floor's /echo with query and returns the
// answer's status, Content-Type and body. It may run on any goroutine.
func post(url, query, body string) (int, string, string, error) {
	res, err := http.Post(url+"/echo"+query, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, "", "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(b), err
}

// TestEcho checks that each variant does the work the bare server's POST
// /echo does, through its guest, and refuses what it should: a wrong key
// and a body larger than the guest's input room.
func TestEcho(t *testing.T) {
	big := strings.Repeat("x", maxBody+1)
	tests := []struct {
		name, query, body, wantCT, wantBody string
		wantStatus                          int
	}{
		{"Echo", "?http_key=k", `{"hello":"world"}`, "application/json", `{"hello":"world"}`, 200},
		{"Full", "?http_key=k", big[:maxBody], "application/json", big[:maxBody], 200},
		{"Empty", "?http_key=k", "", "application/json", "", 200},
		{"WrongKey", "?http_key=x", `{}`, "text/plain; charset=utf-8", "bad http_key\n", 401},
		{"NoKey", "", `{}`, "text/plain; charset=utf-8", "bad http_key\n", 401},
		{"TooLarge", "?http_key=k", big, "text/plain; charset=utf-8", "body too large\n", 413},
	}
	for _, o := range variants {
		e, srv := newTestServer(t, o)
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%+v", tt.name, o), func(t *testing.T) {
				// Twice: the second call reuses the idle instance, whose
				// memory still holds the first call's bytes.
				for i := 0; i < 2; i++ {
					status, ct, b, err := post(srv.URL, tt.query, tt.body)
					if err != nil {
						t.Fatal(err)
					}
					if status != tt.wantStatus || ct != tt.wantCT || b != tt.wantBody {
						t.Fatalf("got %d %q %.40q (%d bytes)", status, ct, b, len(b))
					}
				}
			})
		}
		if e.made != 1 {
			t.Errorf("%+v: %d instances made for one client's requests, want 1", o, e.made)
		}
	}
}

// TestEcho_Concurrent checks that concurrent requests each get their own
// body back, and that the idle instances are kept across garbage
// collections: a pool the collector empties (sync.Pool) would instantiate
// again and again, and wazero keeps every instance until it is closed.
func TestEcho_Concurrent(t *testing.T) {
	const clients, rounds, perRound = 8, 3, 50
	for _, o := range variants {
		e, srv := newTestServer(t, o)
		for r := 0; r < rounds; r++ {
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func(c int) {
					defer wg.Done()
					for i := 0; i < perRound; i++ {
						// Lengths differ too, so that a stale answer
						// cannot pass for a fresh one.
						body := fmt.Sprintf(`{"client":%d,"i":%d,"pad":"%s"}`, c, i, bytes.Repeat([]byte("p"), (c*perRound+i)%97))
						status, _, b, err := post(srv.URL, "?http_key=k", body)
						if err != nil || status != 200 || b != body {
							errs <- fmt.Errorf("client %d request %d: got %d %q (%v), want %q", c, i, status, b, err, body)
							return
						}
					}
				}(c)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("%+v: %v", o, err)
			}
			runtime.GC()
			runtime.GC()
		}
		// Each client has one request in the server at a time, and the
		// previous one's instance may not be back yet: two per client.
		if e.made > 2*clients || e.closedUp != 0 {
			t.Errorf("%+v: %d instances made and %d closed for %d clients over %d collections, want at most %d and 0",
				o, e.made, e.closedUp, clients, 2*rounds, 2*clients)
		}
	}
}

// TestServe_NoKey checks that the floor refuses to start without a key.
func TestServe_NoKey(t *testing.T) {
	if err := serve("127.0.0.1:0", "", options{}); err == nil || !strings.Contains(err.Error(), "-key") {
		t.Fatalf("got %v", err)
	}
}
