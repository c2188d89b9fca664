package console

import (
	"bytes"
	"sync"
	"time"
)

// Log ring bounds.
const (
	// DefaultLogLines is how many log lines the ring keeps.
	DefaultLogLines = 2000
	// maxLogLineBytes bounds one kept line; longer ones are cut.
	maxLogLineBytes = 8 << 10
	// statWindow is how many seconds of request counts the ring keeps.
	statWindow = 60
)

// LogRing keeps the server's latest log lines (JSON, one per line) in a
// bounded ring, for the logs page's live tail, and counts the access
// log's requests and the error lines of the last minute for the status
// page. It is an io.Writer for a tee under the root logger: a write never
// fails and never blocks on a reader.
type LogRing struct {
	now func() time.Time

	mu    sync.Mutex
	lines [][]byte
	next  uint64 // sequence number of the next line
	subs  map[chan struct{}]struct{}
	secs  [statWindow]secStats
	total secStats
}

// secStats counts one second's requests by class, and error log lines.
type secStats struct {
	unix      int64
	Requests  int64 `json:"requests"`
	Status4xx int64 `json:"status_4xx"`
	Status5xx int64 `json:"status_5xx"`
	ErrorLogs int64 `json:"error_logs"`
}

// NewLogRing returns a ring of n lines (DefaultLogLines when n <= 0).
func NewLogRing(n int) *LogRing {
	if n <= 0 {
		n = DefaultLogLines
	}
	return &LogRing{now: time.Now, lines: make([][]byte, n), subs: map[chan struct{}]struct{}{}}
}

// Write keeps every line of p. It always returns len(p), nil.
func (l *LogRing) Write(p []byte) (int, error) {
	now := l.now().Unix()
	l.mu.Lock()
	rest := p
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if len(line) == 0 {
			continue
		}
		l.keepLocked(line, now)
	}
	for ch := range l.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	l.mu.Unlock()
	return len(p), nil
}

// keepLocked stores one line, reusing the slot's buffer, and counts it.
func (l *LogRing) keepLocked(line []byte, now int64) {
	slot := &l.lines[l.next%uint64(len(l.lines))]
	*slot = append((*slot)[:0], line[:min(len(line), maxLogLineBytes)]...)
	l.next++
	s := &l.secs[now%statWindow]
	if s.unix != now {
		*s = secStats{unix: now}
	}
	// zerolog writes the level first and the message last, so the checks
	// look only there: searching the whole line costs several times more.
	if bytes.HasPrefix(line, []byte(`{"level":"error"`)) {
		s.ErrorLogs++
		l.total.ErrorLogs++
	}
	if !bytes.HasSuffix(line, []byte(`"message":"request"}`)) {
		return
	}
	s.Requests++
	l.total.Requests++
	switch status := accessStatus(line); {
	case status >= 500:
		s.Status5xx++
		l.total.Status5xx++
	case status >= 400:
		s.Status4xx++
		l.total.Status4xx++
	}
}

// statusKey is the access log's status field, as zerolog writes its key.
const statusKey = `"status":`

// accessStatus returns the "status" of an access log line, or 0.
//
// # Notes
//
// It finds the key by its first letter, with bytes.IndexByte: no key of
// an access line before the status has an 's' and the request ID is hex,
// so the first 's' is usually the key's. bytes.Index found it by its
// first byte, '"', which every key and string has, at two thirds of a
// line's time in the ring.
func accessStatus(line []byte) int {
	for from := 1; from < len(line); {
		i := bytes.IndexByte(line[from:], statusKey[1])
		if i < 0 {
			return 0
		}
		i += from
		from = i + 1
		if line[i-1] != statusKey[0] || !bytes.HasPrefix(line[i:], []byte(statusKey[1:])) {
			continue
		}
		n := 0
		for _, b := range line[i+len(statusKey)-1:] {
			if b < '0' || b > '9' {
				break
			}
			n = n*10 + int(b-'0')
		}
		return n
	}
	return 0
}

// since returns copies of the lines from sequence number from on (or the
// oldest kept), and the sequence number of the next line.
func (l *LogRing) since(from uint64) ([][]byte, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	oldest := uint64(0)
	if l.next > uint64(len(l.lines)) {
		oldest = l.next - uint64(len(l.lines))
	}
	from = max(from, oldest)
	out := make([][]byte, 0, l.next-min(from, l.next))
	for seq := from; seq < l.next; seq++ {
		out = append(out, bytes.Clone(l.lines[seq%uint64(len(l.lines))]))
	}
	return out, l.next
}

// subscribe returns a channel that gets a value after new lines arrive,
// and a function that ends the subscription.
func (l *LogRing) subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.subs, ch)
		l.mu.Unlock()
	}
}

// RequestStats is what the ring counted: over the last minute, and since
// the start.
type RequestStats struct {
	LastMinute secStats `json:"last_minute"`
	Total      secStats `json:"total"`
	// PerSecond is the request rate over the last minute.
	PerSecond float64 `json:"per_second"`
}

// Stats returns the counts of the last minute and since the start.
func (l *LogRing) Stats() RequestStats {
	now := l.now().Unix()
	l.mu.Lock()
	defer l.mu.Unlock()
	var m secStats
	for _, s := range l.secs {
		if s.unix > now-statWindow && s.unix <= now {
			m.Requests += s.Requests
			m.Status4xx += s.Status4xx
			m.Status5xx += s.Status5xx
			m.ErrorLogs += s.ErrorLogs
		}
	}
	return RequestStats{LastMinute: m, Total: l.total, PerSecond: float64(m.Requests) / statWindow}
}
