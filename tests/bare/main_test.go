package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMux checks that the baseline answers what Warden's benchmarked routes
// answer, so that the two do the same work.
func TestMux(t *testing.T) {
	srv := httptest.NewServer(newMux())
	defer srv.Close()
	tests := []struct {
		name, method, path, body, wantCT, wantBody string
	}{
		{"Echo", "POST", "/echo", `{"hello":"world"}`, "application/json", `{"hello":"world"}`},
		{"Test", "GET", "/test", "", "text/plain; charset=utf-8", "You hit the new endpoint!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != tt.wantCT || string(b) != tt.wantBody {
				t.Fatalf("got %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), b)
			}
		})
	}
}
