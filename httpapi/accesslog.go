package httpapi

import (
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Access log buffering: lines are written out every accessFlushInterval,
// or sooner once accessFlushBytes are waiting, and at shutdown. At most
// accessMaxBytes wait; past that, lines are dropped and counted.
const (
	accessFlushInterval = 100 * time.Millisecond
	accessFlushBytes    = 64 << 10
	accessMaxBytes      = 4 << 20
)

// lineBuffer is the access log's writer: it keeps whole lines, as zerolog
// writes them, in memory and writes them to out in batches from its own
// goroutine, so that a request costs no write(2) and never waits for out.
//
// # Notes
//
// Nothing is lost at a clean stop: Close writes every line written before
// it, and lines written after it go to out directly. When out is slower
// than the requests for long enough that maxBytes are waiting (a stalled
// pipe or terminal), further lines are dropped rather than blocking
// requests, and the number dropped is logged at warn level, through warn,
// after the next batch.
type lineBuffer struct {
	out      io.Writer
	warn     zerolog.Logger
	maxBytes int

	outMu sync.Mutex // serializes writes to out

	mu      sync.Mutex
	buf     []byte
	spare   []byte
	dropped int
	closed  bool

	kick    chan struct{}
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// newLineBuffer returns a lineBuffer for out and starts its goroutine,
// which Close stops.
func newLineBuffer(out io.Writer, warn zerolog.Logger, maxBytes int) *lineBuffer {
	b := &lineBuffer{
		out: out, warn: warn, maxBytes: maxBytes,
		kick: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{}),
	}
	go b.run(accessFlushInterval)
	return b
}

// Write queues p, which must be whole lines, and never blocks on out. It
// always succeeds.
func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.outMu.Lock()
		defer b.outMu.Unlock()
		_, _ = b.out.Write(p) // as zerolog does, a failed log write is not the caller's error
		return len(p), nil
	}
	if len(b.buf)+len(p) > b.maxBytes {
		b.dropped++
		b.mu.Unlock()
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= accessFlushBytes
	b.mu.Unlock()
	if full {
		select {
		case b.kick <- struct{}{}:
		default: // a flush is already due
		}
	}
	return len(p), nil
}

// run flushes every interval, when kicked, and stops when done closes.
func (b *lineBuffer) run(interval time.Duration) {
	defer close(b.stopped)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
		case <-b.kick:
		}
		b.flush()
	}
}

// flush writes the waiting lines to out, then the dropped count if any.
func (b *lineBuffer) flush() {
	b.outMu.Lock()
	defer b.outMu.Unlock()
	b.mu.Lock()
	buf, dropped := b.buf, b.dropped
	b.buf, b.spare, b.dropped = b.spare[:0], nil, 0
	b.mu.Unlock()
	if len(buf) > 0 {
		_, _ = b.out.Write(buf) // nowhere to report it but the same output
	}
	if dropped > 0 {
		b.warn.Warn().Int("lines", dropped).Msg("access log buffer full: lines dropped")
	}
	if cap(buf) <= 2*accessFlushBytes { // a burst's large buffer is let go
		b.mu.Lock()
		b.spare = buf[:0]
		b.mu.Unlock()
	}
}

// Close stops the goroutine and writes every waiting line; later lines go
// to out directly. It is safe to call more than once.
func (b *lineBuffer) Close() {
	b.once.Do(func() {
		close(b.done)
		<-b.stopped
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		b.flush()
	})
}
