package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/warden-rpc/warden/abi"
)

// Defaults of the password hashing pool, for zero Config fields; the
// number of workers is DefaultHashWorkers(). With bcrypt's default cost,
// one hash takes 50 to 100 ms on one core, so a full queue drains in about
// a second, well within nakama-js's 7 s timeout.
const (
	// DefaultHashQueuePerWorker is how many requests may wait for each
	// worker.
	DefaultHashQueuePerWorker = 8
	// DefaultHashWait is how long a request may wait for a worker.
	DefaultHashWait = 2 * time.Second
	// DefaultHashPerClient is how many requests of one client (an
	// address, an IPv6 /64) may be in the pool at once, running or
	// waiting.
	DefaultHashPerClient = 2
)

// msgServerBusy is Warden's message for a request refused because password
// hashing is saturated.
const msgServerBusy = "Server busy, try again later."

// DefaultHashWorkers returns the number of hashes that may run at once
// when Config.HashWorkers is zero: half the Go processors, at least one,
// so that bcrypt leaves the rest to everything else.
func DefaultHashWorkers() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// HashStats is a snapshot of the password hashing of a Service: bcrypt
// hashes at sign-up and comparisons at login.
type HashStats struct {
	// Workers bounds the hashes that run at once.
	Workers int
	// Busy is the number of hashes running now.
	Busy int
	// Peak is the most hashes that ever ran at once.
	Peak int
	// Refused counts the requests refused because the queue was full or
	// their wait too long, or that left while waiting.
	Refused uint64
}

// hasher runs bcrypt on at most workers goroutines at once; up to queue
// more requests wait, each for at most wait. One client may have at most
// perClient requests in it, running or waiting: a client that logs in to
// its own account with the right password spends no failure, and could
// otherwise keep the whole pool busy, so that every other client's login
// and sign-up was refused.
type hasher struct {
	cost      int
	workers   int
	wait      time.Duration
	perClient int
	admit     chan struct{} // one per request running or waiting
	slots     chan struct{} // one per request running

	mu      sync.Mutex
	clients map[netip.Addr]int // requests in the pool, by clientKey

	busy, peak atomic.Int64
	refused    atomic.Uint64
}

// newHasher returns a hasher for cfg, whose fields are set.
func newHasher(cfg Config) *hasher {
	return &hasher{
		cost: cfg.BcryptCost, workers: cfg.HashWorkers, wait: cfg.HashWait, perClient: cfg.HashPerClient,
		admit:   make(chan struct{}, cfg.HashWorkers+cfg.HashQueue),
		slots:   make(chan struct{}, cfg.HashWorkers),
		clients: map[netip.Addr]int{},
	}
}

// hash returns the bcrypt hash of password, for client (see run).
//
// # Errors
//
// An *Error with code 14 (Unavailable) when the pool refuses, and
// bcrypt's error.
func (h *hasher) hash(ctx context.Context, client netip.Addr, password string) ([]byte, error) {
	var hash []byte
	err := h.run(ctx, client, func() (err error) {
		hash, err = bcrypt.GenerateFromPassword([]byte(password), h.cost)
		return err
	})
	return hash, err
}

// compare returns nil when hash is password's bcrypt hash, for client
// (see run).
//
// # Errors
//
// An *Error with code 14 (Unavailable) when the pool refuses, and
// bcrypt's error for a mismatch.
func (h *hasher) compare(ctx context.Context, client netip.Addr, hash []byte, password string) error {
	return h.run(ctx, client, func() error { return bcrypt.CompareHashAndPassword(hash, []byte(password)) })
}

// run runs fn on a worker: at once if one is free, else after waiting in
// the queue; a full queue, or a client (a valid address) with perClient
// requests in the pool already, is refused at once.
func (h *hasher) run(ctx context.Context, client netip.Addr, fn func() error) error {
	if client.IsValid() {
		key := clientKey(client)
		h.mu.Lock()
		if h.clients[key] >= h.perClient {
			h.mu.Unlock()
			h.refused.Add(1)
			return refuse(abi.CodeUnavailable, msgServerBusy, errHashClientBusy)
		}
		h.clients[key]++
		h.mu.Unlock()
		defer h.leave(key)
	}
	select {
	case h.admit <- struct{}{}:
	default:
		h.refused.Add(1)
		return refuse(abi.CodeUnavailable, msgServerBusy, errHashQueueFull)
	}
	defer func() { <-h.admit }()
	if err := h.acquire(ctx); err != nil {
		h.refused.Add(1)
		return refuse(abi.CodeUnavailable, msgServerBusy, err)
	}
	defer func() { <-h.slots }()
	n := h.busy.Add(1)
	defer h.busy.Add(-1)
	for p := h.peak.Load(); n > p && !h.peak.CompareAndSwap(p, n); p = h.peak.Load() {
	}
	return fn()
}

// leave counts one request of the client key out of the pool.
func (h *hasher) leave(key netip.Addr) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.clients[key]--; h.clients[key] <= 0 {
		delete(h.clients, key)
	}
}

// acquire takes a worker, waiting at most h.wait and while ctx lasts.
func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}: // fast path: no timer
		return nil
	default:
	}
	timer := time.NewTimer(h.wait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return fmt.Errorf("%w (%v)", errHashWait, h.wait)
	case <-ctx.Done():
		return fmt.Errorf("wait for a hash worker: %w", ctx.Err())
	}
}

// stats returns a snapshot of h.
func (h *hasher) stats() HashStats {
	return HashStats{Workers: h.workers, Busy: int(h.busy.Load()), Peak: int(h.peak.Load()), Refused: h.refused.Load()}
}

// asRefusal returns err's *Error, if it has one: a refusal to pass on as it
// is rather than to replace with the caller's own.
func asRefusal(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
