package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Cookie and header names.
const (
	// cookieName holds the session token.
	cookieName = "warden_console"
	// csrfHeader carries the session's CSRF token on every change.
	csrfHeader = "X-Warden-CSRF"
	// maxSignInBytes bounds a sign-in body.
	maxSignInBytes = 4 << 10
	// maxAuditActorBytes bounds the user name a refused sign-in is audited
	// under; a longer one is cut and marked.
	maxAuditActorBytes = 64
)

// login is one signed-in console user: a console session.
type login struct {
	id       [sha256.Size]byte // its key in sessions.byID
	user     string
	csrf     string
	addr     string
	created  time.Time
	lastSeen time.Time
}

// sessions holds the console sessions in memory, by the SHA-256 of their
// token, so that the map never holds a usable token.
type sessions struct {
	ttl, idle time.Duration
	now       func() time.Time

	mu   sync.Mutex
	byID map[[sha256.Size]byte]*login
}

func newSessions(ttl, idle time.Duration) *sessions {
	return &sessions{ttl: ttl, idle: idle, now: time.Now, byID: map[[sha256.Size]byte]*login{}}
}

// newToken returns 32 random bytes, base64url.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for user and returns its token.
func (ss *sessions) create(user, addr string) (string, *login) {
	tok := newToken()
	now := ss.now()
	s := &login{id: sha256.Sum256([]byte(tok)), user: user, csrf: newToken(), addr: addr, created: now, lastSeen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.pruneLocked(now)
	for len(ss.byID) >= maxSessions {
		var oldest [sha256.Size]byte
		var at time.Time
		for id, o := range ss.byID {
			if at.IsZero() || o.created.Before(at) {
				oldest, at = id, o.created
			}
		}
		delete(ss.byID, oldest)
	}
	ss.byID[s.id] = s
	return tok, s
}

// live reports whether s is still a live session, refreshing its idle
// time as get does: for a request that outlasts its start, such as a log
// tail, which stops once its session ended, expired or was evicted.
func (ss *sessions) live(s *login) bool {
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.byID[s.id] == s && ss.touchLocked(s, now) != nil
}

// get returns the live session of tok, refreshing its idle time, or nil.
func (ss *sessions) get(tok string) *login {
	now := ss.now()
	id := sha256.Sum256([]byte(tok))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.touchLocked(ss.byID[id], now)
}

// touchLocked returns s with its idle time refreshed when it is live at
// now; an expired s is forgotten, and nil returned (also for a nil s).
func (ss *sessions) touchLocked(s *login, now time.Time) *login {
	switch {
	case s == nil:
		return nil
	case ss.expired(s, now):
		delete(ss.byID, s.id)
		return nil
	}
	s.lastSeen = now
	return s
}

// expired reports whether s is past its lifetime or its idle time at now.
func (ss *sessions) expired(s *login, now time.Time) bool {
	return now.Sub(s.created) > ss.ttl || now.Sub(s.lastSeen) > ss.idle
}

// end forgets the session s.
func (ss *sessions) end(s *login) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, s.id)
}

// pruneLocked forgets expired sessions.
func (ss *sessions) pruneLocked(now time.Time) {
	for id, s := range ss.byID {
		if ss.expired(s, now) {
			delete(ss.byID, id)
		}
	}
}

// equalSecret compares two secrets in constant time, through their
// SHA-256 digests so that no length leaks either.
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// clientAddr returns the TCP peer's address (X-Forwarded-For is not
// trusted, as in the HTTP API).
func clientAddr(r *http.Request) netip.Addr {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(ip)
	return a
}

// sameOrigin reports whether r's Origin names the host r was sent to. A
// change without an Origin is refused: every browser sends one on POST,
// PUT and DELETE. Only the host and port are compared, so that the check
// holds behind a proxy that ends TLS.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// setCookie sets the session cookie; an empty token with maxAge < 0
// deletes it.
func setCookie(w http.ResponseWriter, r *http.Request, tok string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: tok, Path: Path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

// errSignIn is the one answer to a wrong user name or password.
var errSignIn = errors.New("wrong user name or password")

// signIn checks a user name and password, in constant time, and starts a
// session. Failures count against the client's address; a client out of
// attempts is refused (429) before its password is checked. Every sign-in
// and failure is audited.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) error {
	if !sameOrigin(r) {
		return apiErr(http.StatusForbidden, "cross-origin request refused", nil)
	}
	addr := clientAddr(r)
	// The attempt is taken before the password is read and given back
	// unless it is wrong, so that sign-ins sent together check no more
	// passwords than the limit allows.
	if !c.cfg.Limiter.TakeAttempt(addr) {
		return apiErr(http.StatusTooManyRequests, "too many failed sign-ins from this address, try again later", nil)
	}
	var in struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if err := readJSON(w, r, maxSignInBytes, &in); err != nil {
		c.cfg.Limiter.RefundAttempt(addr)
		return err
	}
	userOK := equalSecret(in.User, c.cfg.User)
	passOK := equalSecret(in.Password, c.cfg.Password)
	entry := AuditEntry{Actor: in.User, ClientAddr: addr.String(), Action: "sign-in"}
	if !userOK || !passOK {
		entry.Actor = clip(in.User, maxAuditActorBytes)
		entry.Outcome = "refused: " + errSignIn.Error()
		c.recordDone(r, entry)
		return apiErr(http.StatusUnauthorized, errSignIn.Error(), nil)
	}
	c.cfg.Limiter.RefundAttempt(addr)
	entry.Outcome = "ok"
	if err := c.cfg.Audit.Record(r.Context(), entry); err != nil {
		return apiErr(http.StatusInternalServerError, "audit log unavailable", err)
	}
	tok, s := c.sessions.create(c.cfg.User, addr.String())
	setCookie(w, r, tok, int(c.cfg.SessionTTL.Seconds()))
	c.log.Info().Str("user", s.user).Str("remote_addr", s.addr).Msg("console sign-in")
	return writeJSON(w, http.StatusOK, meJSON{User: s.user, CSRF: s.csrf, Node: c.cfg.Node, Version: c.cfg.Version})
}

// recordDone records a finished action, logging when it cannot.
func (c *Console) recordDone(r *http.Request, e AuditEntry) {
	if err := c.cfg.Audit.Record(r.Context(), e); err != nil {
		c.log.Error().Err(err).Str("action", e.Action).Msg("audit log write failed")
	}
}

// signOut ends the session and deletes the cookie.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *login) error {
	return c.audited(r, s, "sign-out", "", "", func() (string, error) {
		c.sessions.end(s)
		setCookie(w, r, "", -1)
		return "ok", writeJSON(w, http.StatusOK, struct{}{})
	})
}

// meJSON is the signed-in user and the session's CSRF token.
type meJSON struct {
	User    string `json:"user"`
	CSRF    string `json:"csrf"`
	Node    string `json:"node"`
	Version string `json:"version"`
}

// me answers who is signed in, with the CSRF token the page sends back.
func (c *Console) me(w http.ResponseWriter, _ *http.Request, s *login) error {
	return writeJSON(w, http.StatusOK, meJSON{User: s.user, CSRF: s.csrf, Node: c.cfg.Node, Version: c.cfg.Version})
}

// sessionHandler is a handler that needs a session.
type sessionHandler func(w http.ResponseWriter, r *http.Request, s *login) error

// maxSessionCookies bounds the console cookies a request's session is
// looked for in.
const maxSessionCookies = 16

// session returns the request's live session, or nil. It looks in every
// console cookie the request has, up to maxSessionCookies, not just the
// first: a browser sends the cookie with the longest path first, so a
// cookie someone else set on a deeper path would otherwise hide the
// session (plugin routes, which share the origin, may not set one: see
// abi.ReservedCookiePrefix).
func (c *Console) session(r *http.Request) *login {
	for i, ck := range r.CookiesNamed(cookieName) {
		if i == maxSessionCookies {
			break
		}
		if ck.Value == "" {
			continue
		}
		if s := c.sessions.get(ck.Value); s != nil {
			return s
		}
	}
	return nil
}

// read wraps a handler that reads: it needs a session (401 without).
func (c *Console) read(h sessionHandler) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		s := c.session(r)
		if s == nil {
			return apiErr(http.StatusUnauthorized, "sign in first", nil)
		}
		return h(w, r, s)
	}
}

// change wraps a handler that changes something: it needs a session (401),
// a same-host Origin and the session's CSRF token in X-Warden-CSRF,
// compared in constant time (403 otherwise).
func (c *Console) change(h sessionHandler) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		s := c.session(r)
		if s == nil {
			return apiErr(http.StatusUnauthorized, "sign in first", nil)
		}
		if !sameOrigin(r) {
			return apiErr(http.StatusForbidden, "cross-origin request refused", nil)
		}
		tok := r.Header.Get(csrfHeader)
		if tok == "" || !equalSecret(tok, s.csrf) {
			return apiErr(http.StatusForbidden, "missing or wrong CSRF token; reload the page", nil)
		}
		return h(w, r, s)
	}
}

// clip returns s cut to at most n bytes on a character boundary, marked
// with "…" when it was cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
