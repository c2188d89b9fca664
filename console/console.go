// Package console is Warden's web console: a signed-in operator's view of a
// running node (status, plugins, an API explorer, a live log tail and
// accounts), served by the binary itself under /_warden/console/ from files
// embedded with go:embed (plain HTML, CSS and JavaScript: no build step, no
// CDN).
//
// A console user signs in with a user name and password and gets a session
// cookie (HttpOnly, SameSite=Strict, Secure over TLS). Every change needs
// the session's CSRF token in the X-Warden-CSRF header and a same-host
// Origin, and is written to the audit log (a table in Warden's database)
// before it runs, with its outcome after. Sign-in attempts are limited per
// client address.
package console

import (
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
)

// Path is where the console is served; every console URL starts with it.
const Path = "/_warden/console/"

// DefaultUser is the console user's name when none is configured.
const DefaultUser = "admin"

// Default session lifetimes.
const (
	// DefaultSessionTTL bounds a console session from its sign-in.
	DefaultSessionTTL = 12 * time.Hour
	// DefaultIdleTTL ends a session unused for this long.
	DefaultIdleTTL = 2 * time.Hour
	// maxSessions bounds the sessions kept; the oldest goes first.
	maxSessions = 256
)

//go:embed static
var staticFiles embed.FS

// Limiter bounds failed sign-ins per client address; *accounts.Limiter
// implements it.
type Limiter interface {
	// TakeAttempt takes one failure from the budget of the client at addr
	// before its password is checked, and reports whether one was left.
	TakeAttempt(addr netip.Addr) bool
	// RefundAttempt gives the attempt back when the sign-in did not fail.
	RefundAttempt(addr netip.Addr)
}

// Config configures New. User, Password, HTTPKey, EncryptionKey, Audit and
// Limiter are required.
type Config struct {
	// User and Password are the console user's credentials.
	User, Password string
	// Node and Version name this server on the status page.
	Node, Version string
	// Started is when the server started; time.Now when zero.
	Started time.Time
	// HTTPKey and EncryptionKey let the console call the HTTP API as the
	// server (the HTTP key: the plugin admin endpoint, RPCs) or as a user
	// (a short-lived session token, from the API explorer).
	HTTPKey       string
	EncryptionKey []byte
	// Accounts, when set, serves the accounts page.
	Accounts AccountAdmin
	// Audit records every change.
	Audit AuditLog
	// Logs, when set, is the ring of the server's log lines that the logs
	// page tails and the status page counts requests from.
	Logs *LogRing
	// Limiter bounds failed sign-ins per client address.
	Limiter Limiter
	// MaxUploadBytes bounds a plugin upload, as the host's MaxPluginBytes
	// does; host.DefaultMaxPluginBytes when zero.
	MaxUploadBytes int64
	// Done, when closed, ends the live log tails, so that a graceful
	// shutdown does not wait for them.
	Done <-chan struct{}
	// SessionTTL and IdleTTL bound sessions; defaults when zero.
	SessionTTL, IdleTTL time.Duration
	// Logger receives the console's own logs.
	Logger zerolog.Logger
}

// Console serves the console. Create it with New, then give it the HTTP
// API's handler with SetAPI before serving: the console reaches plugins
// and RPCs through it, as a client would.
type Console struct {
	cfg      Config
	log      zerolog.Logger
	mux      *http.ServeMux
	sessions *sessions
	api      atomic.Pointer[http.Handler]
	static   fs.FS
}

// New returns a Console for cfg.
//
// # Errors
//
// New fails when a required field is missing.
func New(cfg Config) (*Console, error) {
	switch {
	case cfg.User == "" || cfg.Password == "":
		return nil, errors.New("console: User and Password are required")
	case cfg.Audit == nil || cfg.Limiter == nil:
		return nil, errors.New("console: Audit and Limiter are required")
	case cfg.HTTPKey == "" || len(cfg.EncryptionKey) == 0:
		return nil, errors.New("console: HTTPKey and EncryptionKey are required")
	}
	if cfg.Started.IsZero() {
		cfg.Started = time.Now()
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = host.DefaultMaxPluginBytes
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.IdleTTL <= 0 {
		cfg.IdleTTL = DefaultIdleTTL
	}
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	c := &Console{
		cfg:      cfg,
		log:      cfg.Logger.With().Str("component", "console").Logger(),
		sessions: newSessions(cfg.SessionTTL, cfg.IdleTTL),
		static:   sub,
	}
	c.mux = c.routes()
	return c, nil
}

// SetAPI gives the console the HTTP API's complete handler (middleware
// included), through which the API explorer makes its calls, as any client
// would.
func (c *Console) SetAPI(h http.Handler) { c.api.Store(&h) }

// ServeHTTP serves the console's pages and JSON API. The HTTP API's CORS
// header is removed: the console is for its own origin only.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Del("Access-Control-Allow-Origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	c.mux.ServeHTTP(w, r)
}

// routes registers every console route.
func (c *Console) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET "+Path+"{$}", c.serveIndex)
	m.Handle("GET "+Path+"static/", http.StripPrefix(Path+"static/", http.FileServerFS(c.static)))
	m.HandleFunc("POST "+Path+"api/signin", c.handle(c.signIn))
	m.HandleFunc("POST "+Path+"api/signout", c.handle(c.change(c.signOut)))
	m.HandleFunc("GET "+Path+"api/me", c.handle(c.read(c.me)))
	m.HandleFunc("GET "+Path+"api/status", c.handle(c.read(c.status)))
	m.HandleFunc("GET "+Path+"api/audit", c.handle(c.read(c.auditList)))
	m.HandleFunc("GET "+Path+"api/plugins", c.handle(c.read(c.listPlugins)))
	m.HandleFunc("POST "+Path+"api/plugins/reload", c.handle(c.change(c.reloadPlugins)))
	m.HandleFunc("PUT "+Path+"api/plugins/{name}", c.handle(c.change(c.deployPlugin)))
	m.HandleFunc("DELETE "+Path+"api/plugins/{name}", c.handle(c.change(c.removePlugin)))
	m.HandleFunc("POST "+Path+"api/call", c.handle(c.change(c.call)))
	m.HandleFunc("GET "+Path+"api/logs", c.handle(c.read(c.tailLogs)))
	m.HandleFunc("GET "+Path+"api/accounts", c.handle(c.read(c.findAccount)))
	m.HandleFunc("POST "+Path+"api/accounts/{id}/revoke", c.handle(c.change(c.revokeSessions)))
	m.HandleFunc(Path, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})
	return m
}

// serveIndex serves the console's single page.
func (c *Console) serveIndex(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(c.static, "index.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "index missing")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b) // the client went away; nothing to do
}
