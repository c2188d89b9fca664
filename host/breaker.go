package host

import (
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// breaker is a plugin's circuit breaker. After threshold calls in a row
// crash (trap, panic or deadline), it opens for cooldown: calls are refused
// at once with code 14 instead of burning CPU that other plugins need. One
// call after the cool-down runs, while the others are still refused; if it
// crashes too, the breaker opens again at once, and if it ends without an
// outcome (its client left), the next call after one more cool-down runs.
type breaker struct {
	threshold int32
	cooldown  time.Duration
	failures  atomic.Int32
	openUntil atomic.Int64 // Unix nanoseconds; 0 when closed
}

// allow reports whether a call may run now. It reads the clock only while
// the breaker is open. Once the cool-down has passed, the one caller that
// moves its end a cool-down further runs, to try the plugin again.
func (b *breaker) allow() bool {
	until := b.openUntil.Load()
	if until == 0 {
		return true
	}
	now := time.Now()
	return now.UnixNano() >= until && b.openUntil.CompareAndSwap(until, now.Add(b.cooldown).UnixNano())
}

// record counts a call's outcome; crashed is true for a trap, panic or
// deadline. It logs when the breaker opens.
func (b *breaker) record(crashed bool, log *zerolog.Logger) {
	if !crashed {
		// Loads first: concurrent healthy calls then share the cache line
		// instead of each writing it.
		if b.failures.Load() != 0 {
			b.failures.Store(0)
		}
		if b.openUntil.Load() != 0 {
			b.openUntil.Store(0)
		}
		return
	}
	n := b.failures.Add(1)
	if n < b.threshold {
		return
	}
	b.openUntil.Store(time.Now().Add(b.cooldown).UnixNano())
	log.Error().Int32("crashes", n).Dur("cooldown", b.cooldown).Msg("plugin keeps crashing; refusing its calls for the cool-down")
}
