package accounts

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// Defaults of LimiterConfig. A client is one address (an IPv6 /64); an
// IPv6 site (a /48) shares siteShare clients' budgets among all its /64s.
//
// Failures (wrong keys, forged tokens, unknown accounts, taken usernames)
// and sign-ups have separate budgets: a client over its sign-up budget
// still logs in, and one over its failure budget is refused everything.
// The sign-up budget lets a household, a LAN party or a test suite behind
// one address create 30 accounts at once and 180 an hour, while one
// address can no longer create accounts as fast as the server can hash
// passwords.
const (
	// DefaultLimiterBurst is how many failed attempts a client may make in
	// a row.
	DefaultLimiterBurst = 10
	// DefaultLimiterEvery is how often a client gets one more attempt back.
	DefaultLimiterEvery = 6 * time.Second
	// DefaultSignupBurst is how many accounts a client may create in a
	// row.
	DefaultSignupBurst = 30
	// DefaultSignupEvery is how often a client may create one more
	// account.
	DefaultSignupEvery = 20 * time.Second
	// DefaultLimiterClients bounds the clients tracked at once, in each
	// budget.
	DefaultLimiterClients = 10000
)

// LimiterConfig configures NewLimiter; zero fields take the defaults.
type LimiterConfig struct {
	// Burst is the number of failures a client may make in a row.
	Burst int
	// Every is the time after which one more failure is allowed.
	Every time.Duration
	// SignupBurst is the number of accounts a client may create in a row.
	SignupBurst int
	// SignupEvery is the time after which one more account may be created.
	SignupEvery time.Duration
	// MaxClients bounds memory: beyond it the least recently seen client
	// is forgotten.
	MaxClients int
}

// Limiter bounds, per client address, failed authentication attempts and
// account creations, with one token bucket each. A client may fail Burst
// times in a row, then once per Every; a client that is out of failures is
// refused before its request is even checked (Allow). A client may create
// SignupBurst accounts in a row, then one per SignupEvery; each creation
// takes a token beforehand (TakeSignup) and gives it back if no account was
// made (RefundSignup), so that concurrent requests cannot overspend. IPv6
// addresses count per /64, the block one host usually has, and each /48,
// the block a site usually has, holds siteShare times one client's budget
// for all its /64s: otherwise a site's 65,536 /64s would each have a
// budget of their own. It is safe for concurrent use.
//
// # Notes
//
// Memory is bounded by MaxClients per budget, in a least-recently-used
// list; a flood of new addresses can push out a client's record, which
// then starts afresh. Behind a reverse proxy every client has the proxy's
// address.
type Limiter struct {
	failures *budget
	signups  *budget
}

// NewLimiter returns a Limiter for cfg.
func NewLimiter(cfg LimiterConfig) *Limiter {
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultLimiterBurst
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultLimiterEvery
	}
	if cfg.SignupBurst <= 0 {
		cfg.SignupBurst = DefaultSignupBurst
	}
	if cfg.SignupEvery <= 0 {
		cfg.SignupEvery = DefaultSignupEvery
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultLimiterClients
	}
	return &Limiter{
		failures: newBudget(cfg.Burst, cfg.Every, cfg.MaxClients),
		signups:  newBudget(cfg.SignupBurst, cfg.SignupEvery, cfg.MaxClients),
	}
}

// Allow reports whether the client at addr may attempt to authenticate.
// Allow and Fail suit a check of a secret that cannot be guessed (a key, a
// signed token): requests sent together all pass Allow before any of them
// fails. A password is checked with TakeAttempt and RefundAttempt.
func (l *Limiter) Allow(addr netip.Addr) bool { return l.failures.allow(addr) }

// Fail records a failed attempt by the client at addr.
func (l *Limiter) Fail(addr netip.Addr) { l.failures.spend(addr, true) }

// TakeAttempt takes one failure from the budget of the client at addr
// before an attempt whose outcome is not known yet, and reports whether
// one was left; RefundAttempt gives it back when the attempt did not fail.
// So concurrent attempts cannot check more passwords than the budget
// allows, as they could between Allow and Fail.
func (l *Limiter) TakeAttempt(addr netip.Addr) bool { return l.failures.spend(addr, false) }

// RefundAttempt gives back an attempt that TakeAttempt took for a request
// that did not fail.
func (l *Limiter) RefundAttempt(addr netip.Addr) { l.failures.refund(addr) }

// TakeSignup takes one account creation from the budget of the client at
// addr and reports whether one was left.
func (l *Limiter) TakeSignup(addr netip.Addr) bool { return l.signups.spend(addr, false) }

// RefundSignup gives back a creation that TakeSignup took for a request
// that created no account.
func (l *Limiter) RefundSignup(addr netip.Addr) { l.signups.refund(addr) }

// siteShare is how many clients' budgets an IPv6 site (a /48) shares
// among all its /64s, burst and rate: enough for an office or a campus
// behind one /48, and 8,192 times fewer than one budget per /64.
const siteShare = 8

// budget is one token bucket per client, and one per IPv6 site, of burst
// tokens (siteShare times as many for a site) that come back one per every
// (siteShare times as fast for a site); a full bucket is forgotten.
type budget struct {
	burst      float64
	every      time.Duration
	maxClients int
	now        func() time.Time

	mu      sync.Mutex
	lru     *list.List // of *bucket, most recent first
	buckets map[bucketKey]*list.Element
}

// bucketKey names a bucket: a client's address (clientKey) or an IPv6
// site's /48 prefix.
type bucketKey struct {
	addr netip.Addr
	site bool
}

// bucket is one client's or site's tokens at time at; scale is 1 for a
// client, siteShare for a site.
type bucket struct {
	key    bucketKey
	scale  float64
	tokens float64
	at     time.Time
}

// newBudget returns an empty budget.
func newBudget(burst int, every time.Duration, maxClients int) *budget {
	return &budget{
		burst: float64(burst), every: every, maxClients: maxClients, now: time.Now,
		lru: list.New(), buckets: map[bucketKey]*list.Element{},
	}
}

// keysOf returns the buckets a request from addr spends from: its
// client's, and its site's when addr is IPv6.
func keysOf(addr netip.Addr) ([2]bucketKey, int) {
	client := clientKey(addr)
	keys := [2]bucketKey{{addr: client}}
	if !client.Is6() {
		return keys, 1
	}
	p, err := client.Prefix(48)
	if err != nil {
		return keys, 1
	}
	keys[1] = bucketKey{addr: p.Addr(), site: true}
	return keys, 2
}

// tokensLocked returns the tokens of the bucket of k, refilled, with its
// element (nil when k has no bucket: a full one). A full bucket it finds
// is forgotten.
func (b *budget) tokensLocked(k bucketKey) (float64, *list.Element) {
	e, ok := b.buckets[k]
	if !ok {
		return b.burst * scaleOf(k), nil
	}
	bk := e.Value.(*bucket)
	if t := b.refill(bk); t < b.burst*bk.scale {
		return t, e
	}
	b.remove(e) // back to a fresh client
	return b.burst * bk.scale, nil
}

// scaleOf is the share of a budget the bucket of k holds.
func scaleOf(k bucketKey) float64 {
	if k.site {
		return siteShare
	}
	return 1
}

// allow reports whether the client at addr, and its site, have a token.
func (b *budget) allow(addr netip.Addr) bool {
	keys, n := keysOf(addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys[:n] {
		if t, _ := b.tokensLocked(k); t < 1 {
			return false
		}
	}
	return true
}

// spend takes a token from the client at addr and from its site and
// reports whether both had one; force empties the buckets even when they
// had none.
func (b *budget) spend(addr netip.Addr, force bool) bool {
	keys, n := keysOf(addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !force {
		for _, k := range keys[:n] {
			if t, _ := b.tokensLocked(k); t < 1 {
				return false
			}
		}
	}
	for _, k := range keys[:n] {
		t, e := b.tokensLocked(k)
		if e == nil {
			e = b.lru.PushFront(&bucket{key: k, scale: scaleOf(k), tokens: t, at: b.now()})
			b.buckets[k] = e
		}
		b.lru.MoveToFront(e)
		bk := e.Value.(*bucket)
		bk.tokens = max(bk.tokens-1, 0)
	}
	for b.lru.Len() > b.maxClients {
		b.remove(b.lru.Back())
	}
	return true
}

// refund gives a token back to the client at addr and to its site, unless
// they were forgotten meanwhile; a bucket it fills is forgotten, so that
// clients that do not fail hold no memory and push no one out of the
// list.
func (b *budget) refund(addr netip.Addr) {
	keys, n := keysOf(addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys[:n] {
		if e, ok := b.buckets[k]; ok {
			bk := e.Value.(*bucket)
			if bk.tokens = min(b.refill(bk)+1, b.burst*bk.scale); bk.tokens >= b.burst*bk.scale {
				b.remove(e)
			}
		}
	}
}

// refill adds the tokens earned since bk was last seen and returns the
// count.
func (b *budget) refill(bk *bucket) float64 {
	now := b.now()
	bk.tokens = min(bk.tokens+bk.scale*float64(now.Sub(bk.at))/float64(b.every), b.burst*bk.scale)
	bk.at = now
	return bk.tokens
}

// remove forgets the bucket of e.
func (b *budget) remove(e *list.Element) {
	delete(b.buckets, e.Value.(*bucket).key)
	b.lru.Remove(e)
}

// clientKey returns the address that identifies a client: IPv4 addresses
// (mapped ones too) as they are, IPv6 addresses as their /64 prefix.
func clientKey(addr netip.Addr) netip.Addr {
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return addr
}
