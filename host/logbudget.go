package host

import (
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
)

const (
	// logInterval is the time in which a plugin's log budget regains one
	// line.
	logInterval = time.Second / abi.MaxLogLinesPerSecond
	// logReportEvery is how often, at most, a plugin's dropped lines are
	// reported.
	logReportEvery = time.Second
)

// logBudget is one plugin version's allowance of log lines, shared by the
// log host function, by stdout and stderr, and by the outbound client's
// line per http_request, in all its instances: a token bucket of
// abi.MaxLogBurstLines lines that regains abi.MaxLogLinesPerSecond a
// second. A line over it is dropped and counted, and the count is reported
// on the plugin's host logger, never through the budget: at once for the
// first drop, then by a timer at most once a second, and at close.
//
// It is kept as a generic cell rate: tat is the time at which the bucket
// would be full again, and a line is allowed when spending it leaves tat at
// most a burst of intervals ahead of now.
type logBudget struct {
	log   *zerolog.Logger
	clock func() time.Duration                               // monotonic; tests replace it
	after func(d time.Duration, f func()) (stop func() bool) // time.AfterFunc; tests replace it

	mu       sync.Mutex
	tat      time.Duration
	dropped  int64         // lines dropped since the last report
	reported time.Duration // when the last report was made
	stop     func() bool   // stops the armed report timer; nil when none is
	closed   bool
}

// newLogBudget returns a full budget that reports to log.
func newLogBudget(log *zerolog.Logger) *logBudget {
	start := time.Now()
	return &logBudget{
		log:      log,
		clock:    func() time.Duration { return time.Since(start) },
		after:    func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop },
		reported: -logReportEvery,
	}
}

// take spends one line and reports whether it may be written; a line it
// refuses is counted as dropped.
func (b *logBudget) take() bool { return b.admit(true) }

// dropIfSpent reports whether the budget has no line left now, and then
// counts one line dropped; it spends nothing.
func (b *logBudget) dropIfSpent() bool { return !b.admit(false) }

// admit reports whether a line is left now, and spends it if spend is
// set. When none is, it counts a line dropped, and reports the count at
// once if the last report is a second old, else arms the report timer
// (unless it is armed already or the budget is closed).
func (b *logBudget) admit(spend bool) bool {
	b.mu.Lock()
	now := b.clock()
	if next := max(b.tat, now) + logInterval; next-now <= abi.MaxLogBurstLines*logInterval {
		if spend {
			b.tat = next
		}
		b.mu.Unlock()
		return true
	}
	b.dropped++
	var n int64
	switch wait := b.reported + logReportEvery - now; {
	case b.stop != nil || b.closed:
	case wait > 0:
		b.stop = b.after(wait, b.flush)
	default:
		n, b.dropped, b.reported = b.dropped, 0, now
	}
	b.mu.Unlock()
	b.report(n)
	return false
}

// flush reports the lines dropped since the last report; the report timer
// runs it.
func (b *logBudget) flush() {
	b.mu.Lock()
	n := b.dropped
	b.dropped, b.reported, b.stop = 0, b.clock(), nil
	b.mu.Unlock()
	b.report(n)
}

// close stops the report timer and reports what is left. Lines dropped
// after it are counted and never reported.
func (b *logBudget) close() {
	b.mu.Lock()
	b.closed = true
	if b.stop != nil {
		b.stop()
		b.stop = nil
	}
	n := b.dropped
	b.dropped = 0
	b.mu.Unlock()
	b.report(n)
}

// report writes one warn line for n dropped lines, if n > 0.
func (b *logBudget) report(n int64) {
	if n > 0 {
		b.log.Warn().Int64("dropped", n).Msgf("plugin log over budget: %d lines dropped", n)
	}
}
