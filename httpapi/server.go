// Package httpapi serves Nakama's HTTP RPC API over Warden's plugin host, so
// that unchanged Nakama clients can call RPCs that WebAssembly plugins serve.
//
// The routes are those of Nakama's RpcFuncHttp (GET and POST /v2/rpc/{id})
// plus its healthcheck and, when Config.Accounts is set, the part of its
// account API that clients need to log in (authenticate, session refresh,
// logout, account); status codes, headers and JSON bodies match Nakama
// byte for byte wherever a client could tell the difference. All routes are
// registered in routes.go. Handlers return an error, and one function,
// writeError, turns every error into its JSON body and logs it.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/netdeadline"
	"github.com/warden-rpc/warden/session"
)

// Defaults for Config fields left zero.
const (
	// DefaultAddr is the listen address: Nakama's port, on loopback only.
	DefaultAddr = "127.0.0.1:7350"
	// DefaultMaxBodyBytes bounds request bodies, as Nakama's
	// socket.max_request_size_bytes does.
	DefaultMaxBodyBytes = 256 << 10
	// DefaultReadHeaderTimeout bounds the time a client may take to send a
	// request's headers, so that slowloris clients cannot hold connections.
	DefaultReadHeaderTimeout = 5 * time.Second
)

// http.Server limits. writeMargin is added to Config.CallTimeout to give
// the write deadline, which also covers reading the body and writing the
// response.
const (
	readTimeout    = 10 * time.Second
	idleTimeout    = 60 * time.Second
	writeMargin    = 5 * time.Second
	maxHeaderBytes = 32 << 10
)

// RPCCaller runs one RPC call. *host.Host implements it.
type RPCCaller interface {
	// Call runs req. A failed call returns a *host.CallError, whose code and
	// message reach the client; any other error becomes an internal error.
	Call(ctx context.Context, req *host.Request) (host.Result, error)
}

var _ RPCCaller = (*host.Host)(nil)

// SessionChecker decides whether a session whose token verified is still
// valid, for instance because it was not revoked by a logout.
type SessionChecker interface {
	// SessionValid returns nil when the session c may be used, and an error
	// saying why not otherwise.
	SessionValid(ctx context.Context, c session.Claims) error
}

// Config configures a Server. Caller, HTTPKey and EncryptionKey are
// required, and ServerKey is too when Accounts is set.
type Config struct {
	// Addr is the TCP address to listen on; DefaultAddr when empty. A port of
	// 0 picks a free port (see Server.URL).
	Addr string
	// Caller runs RPC calls.
	Caller RPCCaller
	// HTTPKey authenticates server-to-server calls (Nakama's runtime.http_key).
	HTTPKey string
	// EncryptionKey verifies session tokens (Nakama's session.encryption_key).
	EncryptionKey []byte
	// Sessions, when set, is asked about every session whose token verified.
	Sessions SessionChecker
	// Accounts, when set, serves Nakama's account API: the authenticate,
	// session refresh, logout and account endpoints.
	Accounts AccountService
	// ServerKey authenticates clients to the authenticate and refresh
	// endpoints (Nakama's socket.server_key).
	ServerKey string
	// Limiter, when set, bounds failed authentication attempts per client
	// address, on the account API and on RPCs.
	Limiter AttemptLimiter
	// MaxBodyBytes bounds a request body; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// CallTimeout is the host's call deadline, used to size the write
	// timeout; host.DefaultCallTimeout when zero.
	CallTimeout time.Duration
	// ReadHeaderTimeout bounds the time a client may take to send a
	// request's headers, from its first byte or, on a kept-alive
	// connection, from the end of the previous response;
	// DefaultReadHeaderTimeout when zero.
	ReadHeaderTimeout time.Duration
	// Routes, when set, serves plugins' custom HTTP routes on every path
	// that no built-in route matches.
	Routes RouteCaller
	// Admin, when set, serves GET (list) and POST (reload) /_warden/plugins,
	// authenticated by the HTTP key.
	Admin PluginAdmin
	// Console, when set, serves the web console under /_warden/console/.
	Console http.Handler
	// NativeEcho registers GET and POST /_bench/echo, which authenticate and
	// decode like an RPC and echo the payload without any WebAssembly, as a
	// baseline for benchmarks.
	NativeEcho bool
	// Logger receives request and error logs.
	Logger zerolog.Logger
	// AccessLog logs one line per request.
	AccessLog bool
	// AccessLogOutput, when set, is the writer under Logger, which must
	// write one JSON line per Write (not a console writer). Access log
	// lines are then kept in memory and written to it in batches, off the
	// request path: every 100 ms, and every line before Shutdown or Close
	// returns. When it is nil, each line is written through Logger as the
	// request ends.
	AccessLogOutput io.Writer
	// Observer, when set, is told of every request, RPC call and plugin
	// route call, for metrics (package metrics implements it).
	Observer Observer

	// now is the clock, time.Now when nil; tests set it.
	now func() time.Time
}

// Server serves the HTTP API. Create one with NewServer, then call Listen
// and Serve, and finally Shutdown or Close.
type Server struct {
	cfg       Config
	log       zerolog.Logger
	httpKey   secret
	serverKey secret
	// timeouts are the connections' (see Listen); Write also restarts
	// after a slow body (restartWriteDeadline).
	timeouts netdeadline.Timeouts
	handler  http.Handler
	srv      *http.Server
	plugins  pluginRoutes
	marks    pluginMarks
	// rpcRequests is the observer's request counter of the RPC route, nil
	// without an observer.
	rpcRequests RequestCounter
	verifier    *session.Verifier
	// access logs the requests, nil when the access log is off; its output
	// is accessBuf when that is set.
	access    *zerolog.Logger
	accessBuf *lineBuffer
	// epoch is when the server was made: requests time themselves from it
	// with one monotonic clock read (see requestInfo.start).
	epoch time.Time

	mu sync.Mutex
	ln net.Listener
}

// NewServer returns a Server for cfg, with defaults applied.
//
// # Errors
//
// NewServer fails when Caller is nil, HTTPKey or EncryptionKey is empty,
// ServerKey is empty while Accounts is set, or MaxBodyBytes, CallTimeout or
// ReadHeaderTimeout is negative.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger.With().Str("component", "httpapi").Logger(),
		httpKey:   newSecret(cfg.HTTPKey),
		serverKey: newSecret(cfg.ServerKey),
		verifier:  session.NewVerifier(cfg.EncryptionKey, 0),
		epoch:     time.Now(),
	}
	if cfg.AccessLog {
		access := s.log
		if cfg.AccessLogOutput != nil {
			s.accessBuf = newLineBuffer(cfg.AccessLogOutput, s.log, accessMaxBytes)
			access = s.log.Output(s.accessBuf)
		}
		s.access = &access
	}
	if cfg.Observer != nil {
		s.rpcRequests = cfg.Observer.Requests(routeRPC)
	}
	s.handler = s.middleware(s.dispatch(s.routes()))
	// The timeouts are the listener's (see Listen), not http.Server's.
	s.timeouts = netdeadline.Timeouts{
		ReadHeader: cfg.ReadHeaderTimeout, Read: readTimeout, Write: cfg.CallTimeout + writeMargin, Idle: idleTimeout,
	}
	s.srv = &http.Server{
		Handler:        s.handler,
		ConnContext:    connContext,
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       newStdLogger(s.log),
	}
	return s, nil
}

// setDefaults fills zero fields and checks the required ones.
func (c *Config) setDefaults() error {
	switch {
	case c.Caller == nil:
		return errors.New("config: Caller is required")
	case c.HTTPKey == "":
		return errors.New("config: HTTPKey is required")
	case len(c.EncryptionKey) == 0:
		return errors.New("config: EncryptionKey is required")
	case c.Accounts != nil && c.ServerKey == "":
		return errors.New("config: ServerKey is required with Accounts")
	case c.MaxBodyBytes < 0 || c.CallTimeout < 0 || c.ReadHeaderTimeout < 0:
		return errors.New("config: MaxBodyBytes, CallTimeout and ReadHeaderTimeout must not be negative")
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = host.DefaultCallTimeout
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	return nil
}

// Listen binds the configured address.
//
// # Errors
//
// Listen fails when the address cannot be bound or Listen was called before.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return errors.New("httpapi: listen: already listening")
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("httpapi: listen %s: %w", s.cfg.Addr, err)
	}
	// The listener applies the server's timeouts from the connections'
	// states, without the clock reads and runtime timers that net/http's
	// own cost on every request (see netdeadline.WrapHTTP).
	l := netdeadline.WrapHTTP(ln, s.timeouts)
	s.srv.ConnState = l.ConnState
	s.ln = l
	return nil
}

// Serve serves requests on the listener that Listen bound. It blocks until
// the server stops, and returns nil after Shutdown or Close.
//
// # Errors
//
// Serve fails when Listen was not called, or when accepting connections
// fails for another reason than the server closing.
func (s *Server) Serve() error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return errors.New("httpapi: serve: not listening")
	}
	s.log.Info().Str("addr", ln.Addr().String()).Msg("serving HTTP API")
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("httpapi: serve: %w", err)
	}
	return nil
}

// URL returns the server's base URL, such as "http://127.0.0.1:7350", or ""
// before Listen. A wildcard listen address is reported as 127.0.0.1.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	addr, ok := s.ln.Addr().(*net.TCPAddr)
	if !ok {
		return "http://" + s.ln.Addr().String()
	}
	host := addr.IP.String()
	if addr.IP == nil || addr.IP.IsUnspecified() {
		host = "127.0.0.1" // Go's wildcard listeners are dual-stack
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// Shutdown stops accepting connections and waits for in-flight requests to
// finish, or for ctx to be done.
//
// # Errors
//
// Shutdown returns ctx's error when it gives up waiting.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	s.closeListener()
	s.closeAccessLog()
	if err != nil {
		return fmt.Errorf("httpapi: shutdown: %w", err)
	}
	return nil
}

// Close stops the server at once, closing the listener and every connection,
// including those with requests in flight.
//
// # Errors
//
// Close returns the error of closing the listener or connections.
func (s *Server) Close() error {
	err := s.srv.Close()
	s.closeListener()
	s.closeAccessLog()
	if err != nil {
		return fmt.Errorf("httpapi: close: %w", err)
	}
	return nil
}

// closeListener closes the listener for the case where Serve never ran; the
// http.Server closes it otherwise, so errors are ignored.
func (s *Server) closeListener() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		_ = s.ln.Close()
	}
}

// closeAccessLog writes the access log lines still waiting; handlers that
// are still running after a timed-out Shutdown write theirs directly.
func (s *Server) closeAccessLog() {
	if s.accessBuf != nil {
		s.accessBuf.Close()
	}
}

// Handler returns the server's complete handler, middleware included, for
// use without Listen, for instance with httptest.
func (s *Server) Handler() http.Handler { return s.handler }
