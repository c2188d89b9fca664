package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestEcho checks that the floor does the work the bare server's POST /echo
// does, through the guest, and refuses what it should: a wrong key and a
// body larger than the guest's input room.
func TestEcho(t *testing.T) {
	for _, deadline := range []time.Duration{0, time.Second} {
		e, err := newEcho(context.Background(), deadline)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(newRouter(e, "k"))
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
		for _, tt := range tests {
			t.Run(tt.name+"/"+deadline.String(), func(t *testing.T) {
				// Twice: the second call reuses a pooled instance, whose
				// memory still holds the first call's bytes.
				for i := 0; i < 2; i++ {
					res, err := http.Post(srv.URL+"/echo"+tt.query, "application/json", strings.NewReader(tt.body))
					if err != nil {
						t.Fatal(err)
					}
					b, err := io.ReadAll(res.Body)
					res.Body.Close()
					if err != nil {
						t.Fatal(err)
					}
					if res.StatusCode != tt.wantStatus || res.Header.Get("Content-Type") != tt.wantCT || string(b) != tt.wantBody {
						t.Fatalf("got %d %q %.40q (%d bytes)", res.StatusCode, res.Header.Get("Content-Type"), b, len(b))
					}
				}
			})
		}
		srv.Close()
		e.close(context.Background())
	}
}

// TestServe_NoKey checks that the floor refuses to start without a key.
func TestServe_NoKey(t *testing.T) {
	if err := serve("127.0.0.1:0", "", 0); err == nil || !strings.Contains(err.Error(), "-key") {
		t.Fatalf("got %v", err)
	}
}
