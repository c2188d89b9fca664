package accounts

import (
	"context"
	"errors"
	"fmt"
	"runtime"
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
// more requests wait, each for at most wait.
type hasher struct {
	cost    int
	workers int
	wait    time.Duration
	admit   chan struct{} // one per request running or waiting
	slots   chan struct{} // one per request running

	busy, peak atomic.Int64
	refused    atomic.Uint64
}

// newHasher returns a hasher for cfg, whose fields are set.
func newHasher(cfg Config) *hasher {
	return &hasher{
		cost: cfg.BcryptCost, workers: cfg.HashWorkers, wait: cfg.HashWait,
		admit: make(chan struct{}, cfg.HashWorkers+cfg.HashQueue),
		slots: make(chan struct{}, cfg.HashWorkers),
	}
}

// hash returns the bcrypt hash of password.
//
// # Errors
//
// An *Error with code 14 (Unavailable) when the pool refuses, and
// bcrypt's error.
func (h *hasher) hash(ctx context.Context, password string) ([]byte, error) {
	var hash []byte
	err := h.run(ctx, func() (err error) {
		hash, err = bcrypt.GenerateFromPassword([]byte(password), h.cost)
		return err
	})
	return hash, err
}

// compare returns nil when hash is password's bcrypt hash.
//
// # Errors
//
// An *Error with code 14 (Unavailable) when the pool refuses, and
// bcrypt's error for a mismatch.
func (h *hasher) compare(ctx context.Context, hash []byte, password string) error {
	return h.run(ctx, func() error { return bcrypt.CompareHashAndPassword(hash, []byte(password)) })
}

// run runs fn on a worker: at once if one is free, else after waiting in
// the queue; a full queue refuses at once.
func (h *hasher) run(ctx context.Context, fn func() error) error {
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
