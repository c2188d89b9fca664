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
//
// Two flags, off by default, measure what a safe server's timeouts cost
// the same few lines: -timeouts sets Warden's timeouts (5 s headers, 10 s
// request, 15 s write, 60 s idle) as http.Server's, and -netdeadline with
// it applies them as Warden does, from the listener (netdeadline.WrapHTTP);
// -netdeadline alone serves through that listener with no timeout.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/warden-rpc/warden/netdeadline"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7398", "listen address")
	timeouts := flag.Bool("timeouts", false, "set Warden's timeouts")
	coarse := flag.Bool("netdeadline", false, "serve through netdeadline's listener, which applies the timeouts")
	flag.Parse()
	if err := serve(*addr, *timeouts, *coarse); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

// serve serves newMux on addr, with Warden's timeouts and listener when
// asked.
func serve(addr string, timeouts, coarse bool) error {
	srv := &http.Server{Handler: newMux()}
	to := netdeadline.Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 15 * time.Second, Idle: 60 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	switch {
	case coarse:
		if !timeouts {
			to = netdeadline.Timeouts{}
		}
		l := netdeadline.WrapHTTP(ln, to)
		srv.ConnState = l.ConnState
		return srv.Serve(l)
	case timeouts:
		srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout = to.ReadHeader, to.Read, to.Write, to.Idle
	}
	return srv.Serve(ln)
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
