package accounts

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// Defaults of LimiterConfig. A client is one address (an IPv6 /64).
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
// addresses count per /64, the block one host usually has. It is safe for
// concurrent use.
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

// budget is one token bucket per client, of burst tokens that come back one
// per every; a full bucket is forgotten.
type budget struct {
	burst      float64
	every      time.Duration
	maxClients int
	now        func() time.Time

	mu      sync.Mutex
	lru     *list.List // of *bucket, most recent first
	buckets map[netip.Addr]*list.Element
}

// bucket is one client's tokens at time at.
type bucket struct {
	addr   netip.Addr
	tokens float64
	at     time.Time
}

// newBudget returns an empty budget.
func newBudget(burst int, every time.Duration, maxClients int) *budget {
	return &budget{
		burst: float64(burst), every: every, maxClients: maxClients, now: time.Now,
		lru: list.New(), buckets: map[netip.Addr]*list.Element{},
	}
}

// allow reports whether the client at addr has a token.
func (b *budget) allow(addr netip.Addr) bool {
	key := clientKey(addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.buckets[key]
	if !ok {
		return true
	}
	if b.refill(e.Value.(*bucket)) >= b.burst {
		b.remove(e) // back to a fresh client
		return true
	}
	return e.Value.(*bucket).tokens >= 1
}

// spend takes a token from the client at addr and reports whether it had
// one; force empties the bucket even when it had none.
func (b *budget) spend(addr netip.Addr, force bool) bool {
	key := clientKey(addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.buckets[key]
	if !ok {
		e = b.lru.PushFront(&bucket{addr: key, tokens: b.burst, at: b.now()})
		b.buckets[key] = e
		for b.lru.Len() > b.maxClients {
			b.remove(b.lru.Back())
		}
	}
	b.lru.MoveToFront(e)
	bk := e.Value.(*bucket)
	if b.refill(bk) < 1 && !force {
		return false
	}
	bk.tokens = max(bk.tokens-1, 0)
	return true
}

// refund gives a token back to the client at addr, unless it was forgotten
// meanwhile; a bucket it fills is forgotten, so that clients that do not
// fail hold no memory and push no one out of the list.
func (b *budget) refund(addr netip.Addr) {
	key := clientKey(addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.buckets[key]; ok {
		bk := e.Value.(*bucket)
		if bk.tokens = min(b.refill(bk)+1, b.burst); bk.tokens >= b.burst {
			b.remove(e)
		}
	}
}

// refill adds the tokens earned since bk was last seen and returns the
// count.
func (b *budget) refill(bk *bucket) float64 {
	now := b.now()
	bk.tokens = min(bk.tokens+float64(now.Sub(bk.at))/float64(b.every), b.burst)
	bk.at = now
	return bk.tokens
}

// remove forgets the client of e.
func (b *budget) remove(e *list.Element) {
	delete(b.buckets, e.Value.(*bucket).addr)
	b.lru.Remove(e)
}

// clientKey returns the address that identifies a client: IPv4 addresses
// (mapped ones too) as they are, IPv6 addresses that carry an IPv4 client
// as that IPv4 address (embeddedIPv4), other IPv6 addresses as their /64
// prefix.
func clientKey(addr netip.Addr) netip.Addr {
	addr = addr.Unmap().WithZone("")
	if v4, ok := embeddedIPv4(addr); ok {
		return v4
	}
	if addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return addr
}

// embeddedIPv4 returns the IPv4 client an IPv6 address stands for: NAT64's
// well-known prefix 64:ff9b::/96 (RFC 6052) carries it in its last 32 bits,
// Teredo (2001::/32, RFC 4380) inverted in its last 32 bits, 6to4
// (2002::/16, RFC 3056) in the 32 bits after the prefix. As /64s, every
// IPv4 client behind one translator, or of one Teredo server, would be one
// client, whose failures locked out the others.
func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	if !addr.Is6() {
		return netip.Addr{}, false
	}
	b := addr.As16()
	switch {
	case b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && [8]byte(b[4:12]) == [8]byte{}:
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00:
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), true
	case b[0] == 0x20 && b[1] == 0x02:
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}
