package host

import (
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// breaker is a plugin's circuit breaker. After threshold calls in a row
// crash (trap, panic or deadline), it opens for cooldown: calls are refused
// at once with code 14 instead of burning CPU that other plugins need. The
// first call after the cool-down runs; if it crashes too, the breaker opens
// again at once.
type breaker struct {
	threshold int32
	cooldown  time.Duration
	failures  atomic.Int32
	openUntil atomic.Int64 // Unix nanoseconds; 0 when closed
}

// allow reports whether a call may run now.
func (b *breaker) allow(now time.Time) bool {
	until := b.openUntil.Load()
	return until == 0 || now.UnixNano() >= until
}

// record counts a call's outcome; crashed is true for a trap, panic or
// deadline. It logs when the breaker opens.
func (b *breaker) record(crashed bool, now time.Time, log *zerolog.Logger) {
	if !crashed {
		b.failures.Store(0)
		b.openUntil.Store(0)
		return
	}
	n := b.failures.Add(1)
	if n < b.threshold {
		return
	}
	b.openUntil.Store(now.Add(b.cooldown).UnixNano())
	log.Error().Int32("crashes", n).Dur("cooldown", b.cooldown).Msg("plugin keeps crashing; refusing its calls for the cool-down")
}
