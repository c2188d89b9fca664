package accounts

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// Defaults of LimiterConfig.
const (
	// DefaultLimiterBurst is how many failed attempts a client may make in
	// a row.
	DefaultLimiterBurst = 10
	// DefaultLimiterEvery is how often a client gets one more attempt back.
	DefaultLimiterEvery = 6 * time.Second
	// DefaultLimiterClients bounds the clients tracked at once.
	DefaultLimiterClients = 10000
)

// LimiterConfig configures NewLimiter; zero fields take the defaults.
type LimiterConfig struct {
	// Burst is the number of failures a client may make in a row.
	Burst int
	// Every is the time after which one more failure is allowed.
	Every time.Duration
	// MaxClients bounds memory: beyond it the least recently seen client
	// is forgotten.
	MaxClients int
}

// Limiter bounds failed authentication attempts per client address with a
// token bucket: each client may fail Burst times in a row, then once per
// Every. IPv6 addresses count per /64, the block one host usually has.
// Only failures spend tokens; a client that is out of tokens is refused
// before its request is even checked. It is safe for concurrent use.
//
// # Notes
//
// Memory is bounded by MaxClients, in a least-recently-used list; a flood of
// new addresses can push out a client's record, which then starts afresh.
// Behind a reverse proxy every client has the proxy's address.
type Limiter struct {
	cfg LimiterConfig
	now func() time.Time

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

// NewLimiter returns a Limiter for cfg.
func NewLimiter(cfg LimiterConfig) *Limiter {
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultLimiterBurst
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultLimiterEvery
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultLimiterClients
	}
	return &Limiter{cfg: cfg, now: time.Now, lru: list.New(), buckets: map[netip.Addr]*list.Element{}}
}

// Allow reports whether the client at addr may attempt to authenticate.
func (l *Limiter) Allow(addr netip.Addr) bool {
	key := clientKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.buckets[key]
	if !ok {
		return true
	}
	b := e.Value.(*bucket)
	if l.refill(b) >= float64(l.cfg.Burst) {
		l.remove(e) // back to a fresh client
		return true
	}
	return b.tokens >= 1
}

// Fail records a failed attempt by the client at addr.
func (l *Limiter) Fail(addr netip.Addr) {
	key := clientKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.buckets[key]
	if !ok {
		e = l.lru.PushFront(&bucket{addr: key, tokens: float64(l.cfg.Burst), at: l.now()})
		l.buckets[key] = e
		for l.lru.Len() > l.cfg.MaxClients {
			l.remove(l.lru.Back())
		}
	}
	l.lru.MoveToFront(e)
	b := e.Value.(*bucket)
	l.refill(b)
	b.tokens = max(b.tokens-1, 0)
}

// refill adds the tokens earned since b was last seen and returns the
// count.
func (l *Limiter) refill(b *bucket) float64 {
	now := l.now()
	b.tokens = min(b.tokens+float64(now.Sub(b.at))/float64(l.cfg.Every), float64(l.cfg.Burst))
	b.at = now
	return b.tokens
}

// remove forgets the client of e.
func (l *Limiter) remove(e *list.Element) {
	delete(l.buckets, e.Value.(*bucket).addr)
	l.lru.Remove(e)
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
