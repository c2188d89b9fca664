// Command bare is the baseline of Warden's HTTP benchmarks: what a user
// would otherwise run, a few lines of net/http with a ServeMux and nothing
// else (no authentication, no logging, no timeouts). POST /echo answers the
// request body with Content-Type application/json, and GET /test answers
// "You hit the new endpoint!" as text/plain; charset=utf-8, the bytes of the
// Rust echo plugin with ?unwrap and of the seed plugin's route.
// scripts/bench and scripts/bench-http run it in its own process, pinned
// like Warden, and report Warden's throughput as a ratio to it.
//
//	go run ./tests/bare -addr 127.0.0.1:7398
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7398", "listen address")
	flag.Parse()
	if err := http.ListenAndServe(*addr, newMux()); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

// newMux returns the two routes.
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	mux.HandleFunc("GET /test", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("You hit the new endpoint!"))
	})
	return mux
}
