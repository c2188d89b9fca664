package session

import (
	"strings"
	"sync"
	"time"
)

// Verifier cache bounds.
const (
	// DefaultVerifierEntries is the number of verified tokens a Verifier
	// remembers when NewVerifier is given no bound.
	DefaultVerifierEntries = 4096
	// maxCachedTokenBytes is the longest token a Verifier remembers; longer
	// ones are verified on every use. With DefaultVerifierEntries it bounds
	// the cache's tokens to 8 MiB.
	maxCachedTokenBytes = 2 << 10
)

// Verifier verifies tokens against one key, as Verify does, and remembers
// the tokens that verified until they expire, so that a client sending the
// same token on every request pays for the signature and the JSON decoding
// once.
//
// # Notes
//
// A remembered answer is exactly as safe as a fresh one: it is found only
// by the token's exact bytes (the whole string is the map key, signature
// included), a Verifier holds one key for its whole life, so a token is
// never accepted under another key, and the expiry is checked again on
// every use against the time given. Whether a session was revoked is not
// the token's business: callers check it on every request, hit or miss.
// Tokens that fail are never remembered. The cache holds at most its bound
// of entries: when full, expired entries are dropped first, then a quarter
// of the others, chosen at random.
type Verifier struct {
	key []byte
	max int

	mu    sync.RWMutex
	cache map[string]Claims
}

// NewVerifier returns a Verifier for key that remembers up to entries
// tokens, or DefaultVerifierEntries when entries is not positive. It keeps
// a copy of key.
func NewVerifier(key []byte, entries int) *Verifier {
	if entries <= 0 {
		entries = DefaultVerifierEntries
	}
	return &Verifier{key: append([]byte(nil), key...), max: entries, cache: make(map[string]Claims)}
}

// Verify checks token at time now and returns its claims, as the package's
// Verify does with the Verifier's key, but with the user ID in lowercase,
// as Nakama reads it (it parses the uid into a UUID and formats it back).
// Lowering it once, when the token is first verified, spares every
// request with the token the work (a scan of its 36 bytes).
//
// # Notes
//
// The returned Claims' Vars map may be shared with other calls: treat it as
// read-only.
//
// # Errors
//
// Those of the package's Verify.
func (v *Verifier) Verify(token string, now time.Time) (Claims, error) {
	v.mu.RLock()
	c, ok := v.cache[token]
	v.mu.RUnlock()
	if ok {
		if checkExpiry(c, now) == nil {
			return c, nil
		}
		v.mu.Lock()
		delete(v.cache, token)
		v.mu.Unlock()
	}
	c, err := Verify(v.key, token, now)
	if err != nil {
		return Claims{}, err
	}
	c.UserID = strings.ToLower(c.UserID)
	if len(token) <= maxCachedTokenBytes {
		v.remember(token, c, now)
	}
	return c, nil
}

// remember adds a verified token, making room first when the cache is full.
func (v *Verifier) remember(token string, c Claims, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.cache) >= v.max {
		for t, old := range v.cache {
			if checkExpiry(old, now) != nil {
				delete(v.cache, t)
			}
		}
		for t := range v.cache {
			if len(v.cache) <= v.max*3/4 {
				break
			}
			delete(v.cache, t)
		}
	}
	v.cache[strings.Clone(token)] = c // the header's string may hold more
}

// len returns the number of remembered tokens.
func (v *Verifier) len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.cache)
}
