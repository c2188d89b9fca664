package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Path is where the listener serves the metrics.
const Path = "/metrics"

// The listener's timeouts. A scrape is one small request and its answer;
// a scraper that keeps its connection between scrapes (every 15 s or more)
// opens a new one when idleTimeout has closed it, which costs one
// handshake. Without them a client that reaches the listener keeps each
// connection it opens for as long as it likes (idle after a scrape, or
// sending a body, or not reading the answer), holding descriptors the API
// listener shares.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 5 * time.Second
)

// Server serves the metrics on a listener of its own, apart from the API.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen starts listening on addr for m's metrics; Serve serves them.
//
// # Errors
//
// The listener's.
func (m *Metrics) Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, m.Handler())
	return &Server{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout: readTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout}}, nil
}

// URL returns the address of the metrics, such as http://127.0.0.1:9100/metrics.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + Path }

// Serve serves until ctx is done, then shuts the listener down.
//
// # Errors
//
// The server's, other than its closing.
func (s *Server) Serve(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.srv.Serve(s.ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(sctx)
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
