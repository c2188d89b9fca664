package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// Defaults for Config fields left zero.
const (
	// DefaultMaxRequests bounds the outbound requests in flight across all
	// plugins.
	DefaultMaxRequests = 256
	// DefaultMaxRequestsPerPlugin bounds one plugin's outbound requests in
	// flight, and its open connections.
	DefaultMaxRequestsPerPlugin = 16
	// DefaultMaxTimeout is the largest timeout a manifest may set.
	DefaultMaxTimeout = 30 * time.Second
	// DefaultMaxRequestBytes is the largest max_request_bytes a manifest
	// may set.
	DefaultMaxRequestBytes = 16 << 20
	// DefaultMaxResponseBytes is the largest max_response_bytes a manifest
	// may set.
	DefaultMaxResponseBytes = 16 << 20
)

// Resolver looks up the addresses of a host name; *net.Resolver fits.
// Tests inject their own.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config configures a Service: what all plugins share. Zero values take
// the defaults documented on each field.
type Config struct {
	// MaxRequests bounds the requests in flight across all plugins.
	// Default DefaultMaxRequests.
	MaxRequests int
	// MaxRequestsPerPlugin bounds one plugin's requests in flight and its
	// connections. Default DefaultMaxRequestsPerPlugin.
	MaxRequestsPerPlugin int
	// MaxTimeout, MaxRequestBytes and MaxResponseBytes are the largest
	// timeout and body sizes a manifest may set. Defaults DefaultMaxTimeout,
	// DefaultMaxRequestBytes and DefaultMaxResponseBytes.
	MaxTimeout       time.Duration
	MaxRequestBytes  int64
	MaxResponseBytes int64
	// CAFile is a PEM file of certificate authorities trusted besides the
	// system's roots; empty for the system's roots only.
	CAFile string
	// Resolver resolves host names. Default net.DefaultResolver.
	Resolver Resolver
	// Logger receives one line per request.
	Logger zerolog.Logger
	// Observer, when not nil, is told of every request that passed the
	// ABI's checks (metrics).
	Observer Observer
}

// Observer is told of plugins' outbound requests; *metrics.Metrics
// implements it.
type Observer interface {
	// OutboundCall counts one request of plugin under grant, the manifest's
	// allow entry that let it out (NotGrantedLabel when none did): a label
	// bounded by the manifest, never the URL the plugin asked for. status
	// is the response's, 0 when there was none.
	OutboundCall(plugin, grant string, status int)
}

// Service holds what the plugins' clients share: the bound on requests in
// flight, the trusted roots, the resolver and the logger. It is safe for
// concurrent use.
type Service struct {
	cfg    Config
	slots  chan struct{}
	roots  *x509.CertPool
	dialer net.Dialer
	log    zerolog.Logger
}

// New returns a Service.
//
// # Errors
//
// It fails when the system's roots or cfg.CAFile cannot be loaded, or the
// CA file holds no certificate.
func New(cfg Config) (*Service, error) {
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = DefaultMaxRequests
	}
	if cfg.MaxRequestsPerPlugin <= 0 {
		cfg.MaxRequestsPerPlugin = DefaultMaxRequestsPerPlugin
	}
	if cfg.MaxTimeout <= 0 {
		cfg.MaxTimeout = DefaultMaxTimeout
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		return nil, fmt.Errorf("outbound: system roots: %w", err)
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("outbound: CA file: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("outbound: CA file %s holds no PEM certificate", cfg.CAFile)
		}
	}
	return &Service{
		cfg:    cfg,
		slots:  make(chan struct{}, cfg.MaxRequests),
		roots:  roots,
		dialer: net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
		log:    cfg.Logger.With().Str("component", "outbound").Logger(),
	}, nil
}

// Maxima returns the largest timeout, request body and response body a
// manifest may set.
func (s *Service) Maxima() (timeout time.Duration, requestBytes, responseBytes int64) {
	return s.cfg.MaxTimeout, s.cfg.MaxRequestBytes, s.cfg.MaxResponseBytes
}

// ClientConfig is one plugin's outbound configuration, from its manifest.
type ClientConfig struct {
	// Plugin names the plugin, in messages and logs.
	Plugin string
	// Policy holds its grants; nil allows nothing.
	Policy *Policy
	// Timeout bounds each request (the call's deadline bounds it too).
	Timeout time.Duration
	// MaxRequestBytes and MaxResponseBytes bound the bodies.
	MaxRequestBytes  int64
	MaxResponseBytes int64
	// Output, when not nil, is where the client's line per request goes,
	// in place of the service logger's output: the plugin's own share of
	// what the operator sees, since the plugin decides how many there are.
	Output io.Writer
	// AllowLine, when not nil, is asked for each line per request at a
	// level that is written, and the line is written only if it returns
	// true: the plugin's log budget, for the same reason. The request is
	// sent and answered either way.
	AllowLine func() bool
}

// Client sends one plugin's requests. Its connections are its own, reused
// across its calls, and closed by Close.
type Client struct {
	s     *Service
	cfg   ClientConfig
	slots chan struct{}
	conns chan struct{} // one per open connection (conns.go)
	hc    *http.Client
	tr    *http.Transport
	tls   *tls.Config
	log   zerolog.Logger
}

// NewClient returns the client of one plugin version.
func (s *Service) NewClient(cfg ClientConfig) *Client {
	if cfg.Policy == nil {
		cfg.Policy = &Policy{}
	}
	n := s.cfg.MaxRequestsPerPlugin
	log := s.log
	if cfg.Output != nil {
		log = log.Output(cfg.Output)
	}
	c := &Client{s: s, cfg: cfg, slots: make(chan struct{}, n),
		conns: make(chan struct{}, n), log: log.With().Str("plugin", cfg.Plugin).Logger()}
	c.tls = &tls.Config{RootCAs: s.roots, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	c.tr = &http.Transport{
		Proxy:                  nil, // proxy environment variables are ignored
		DialContext:            c.dialFunc("http"),
		DialTLSContext:         c.dialTLS,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           n,
		MaxIdleConnsPerHost:    n,
		MaxConnsPerHost:        n,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}
	c.hc = &http.Client{Transport: c.tr, CheckRedirect: c.checkRedirect} // no Jar: no cookies kept
	return c
}

// Close closes the client's idle connections; requests in flight finish.
func (c *Client) Close() { c.tr.CloseIdleConnections() }
