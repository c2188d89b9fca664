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
// When it can (newAccessEncoder), it writes the access log lines itself,
// straight into its buffer (writeAccess), with the same bytes as zerolog.
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
	// enc writes the access log lines, nil when zerolog must (writeAccess).
	enc *accessEncoder

	outMu sync.Mutex // serializes writes to out

	mu      sync.Mutex
	buf     []byte
	spare   []byte
	dropped int
	closed  bool
	clock   wallClock // the access lines' timestamps; re-anchored each flush

	kick    chan struct{}
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// newLineBuffer returns a lineBuffer for out and starts its goroutine,
// which Close stops. log is the logger whose output it is (given out by
// log.Output(b)): its warnings go there, and its access lines are
// encoded by the buffer itself when newAccessEncoder finds it can.
func newLineBuffer(out io.Writer, log zerolog.Logger, maxBytes int) *lineBuffer {
	b := &lineBuffer{
		out: out, warn: log, maxBytes: maxBytes, enc: newAccessEncoder(log),
		kick: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{}),
	}
	b.clock.anchor = time.Now()
	go b.run(accessFlushInterval)
	return b
}

// Write queues p, which must be whole lines, and never blocks on out. It
// always succeeds.
func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.writeOut(p)
		return len(p), nil
	}
	if len(b.buf)+len(p) > b.maxBytes {
		b.dropped++
		b.mu.Unlock()
		return len(p), nil
	}
	n := len(b.buf)
	b.buf = append(b.buf, p...)
	b.keepLocked(n)
	return len(p), nil
}

// writeAccess queues the access log line of f, for a request that ended
// mono after epoch (the server's), encoding it straight into the buffer.
// It reports false, having done nothing, when the logger's lines need
// zerolog (b.enc is nil); the caller then logs f through zerolog.
//
// # Notes
//
// It writes what zerolog would: nothing while zerolog's global level is
// above info, the line itself otherwise. The line is bounded and counted
// as a written one is: one that takes the buffer past maxBytes is taken
// back out and counted as dropped.
func (b *lineBuffer) writeAccess(f *accessFields, epoch time.Time, mono time.Duration) bool {
	if b.enc == nil {
		return false
	}
	if zerolog.GlobalLevel() > zerolog.InfoLevel {
		return true
	}
	b.mu.Lock()
	ts := b.clock.timestamp(epoch, mono)
	if b.closed {
		line := b.enc.appendLine(nil, f, ts)
		b.mu.Unlock()
		b.writeOut(line)
		return true
	}
	n := len(b.buf)
	b.buf = b.enc.appendLine(b.buf, f, ts)
	b.keepLocked(n)
	return true
}

// keepLocked ends the queueing of a line appended at b.buf[n:]: it takes
// the line back out and counts it as dropped when the buffer holds more
// than maxBytes, unlocks b.mu, and starts a flush when accessFlushBytes
// are waiting.
func (b *lineBuffer) keepLocked(n int) {
	if len(b.buf) > b.maxBytes {
		b.buf = b.buf[:n]
		b.dropped++
	}
	full := len(b.buf) >= accessFlushBytes
	b.mu.Unlock()
	if full {
		select {
		case b.kick <- struct{}{}:
		default: // a flush is already due
		}
	}
}

// writeOut writes p to out at once, after Close.
func (b *lineBuffer) writeOut(p []byte) {
	b.outMu.Lock()
	defer b.outMu.Unlock()
	_, _ = b.out.Write(p) // as zerolog does, a failed log write is not the caller's error
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

// flush writes the waiting lines to out, then the dropped count if any,
// and re-anchors the timestamps' clock.
func (b *lineBuffer) flush() {
	b.outMu.Lock()
	defer b.outMu.Unlock()
	now := time.Now()
	b.mu.Lock()
	buf, dropped := b.buf, b.dropped
	b.buf, b.spare, b.dropped = b.spare[:0], nil, 0
	b.clock.anchor = now
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
