package console

import (
	"bytes"
	"encoding/json"
	"io"
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
	// guestShare is the part of the ring one plugin's own lines may fill
	// in a burst (see Share), and guestRefill how long, in seconds, the
	// plugin takes to regain that part.
	guestShare  = 4
	guestRefill = 10
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
	// shares are the plugins' allowances of lines (see Share), by name.
	shares map[string]*share
}

// share is one plugin's allowance of lines in the ring: a bucket of
// len(lines)/guestShare lines that refills over guestRefill seconds.
type share struct {
	plugin  string
	tokens  float64
	last    time.Time // when tokens was counted
	dropped int64     // lines not kept since the last notice
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
	return &LogRing{now: time.Now, lines: make([][]byte, n), subs: map[chan struct{}]struct{}{}, shares: map[string]*share{}}
}

// Write keeps every line of p. It always returns len(p), nil.
func (l *LogRing) Write(p []byte) (int, error) {
	l.write(p, nil)
	return len(p), nil
}

// Share returns the writer for the lines plugin's own code writes (its
// log calls, stdout and stderr), in place of the ring itself: it keeps
// them as Write does, but no more than a quarter of the ring in a burst,
// regained over 10 seconds, so that one plugin's flood cannot push every
// other line out of the ring (the logs page would then show nothing but
// it). The lines it does not keep still go wherever else the logger
// writes. When it starts leaving a plugin's lines out, the ring keeps a
// warning naming the plugin; when it keeps them again, one with the count
// it left out.
func (l *LogRing) Share(plugin string) io.Writer {
	l.mu.Lock()
	defer l.mu.Unlock()
	sh := l.shares[plugin]
	if sh == nil {
		sh = &share{plugin: plugin, tokens: float64(l.shareBurst()), last: l.now()}
		l.shares[plugin] = sh
	}
	return shareWriter{l, sh}
}

// shareBurst is how many lines one plugin may keep in a burst.
func (l *LogRing) shareBurst() int { return max(1, len(l.lines)/guestShare) }

// shareWriter writes into its ring under a plugin's share.
type shareWriter struct {
	l  *LogRing
	sh *share
}

// Write keeps the lines of p that the plugin's share allows. It always
// returns len(p), nil.
func (w shareWriter) Write(p []byte) (int, error) {
	w.l.write(p, w.sh)
	return len(p), nil
}

// write keeps the lines of p, under sh when it is not nil, and wakes the
// tails.
func (l *LogRing) write(p []byte, sh *share) {
	t := l.now()
	now := t.Unix()
	l.mu.Lock()
	if sh != nil {
		burst := float64(l.shareBurst())
		sh.tokens = min(burst, sh.tokens+t.Sub(sh.last).Seconds()*burst/guestRefill)
		sh.last = t
	}
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
		if sh != nil && !l.admitLocked(sh, t) {
			l.countLocked(line, now, true) // the status page still counts its errors
			continue
		}
		l.keepLocked(line, now, sh != nil)
	}
	for ch := range l.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	l.mu.Unlock()
}

// admitLocked spends a line of sh and reports whether it may be kept. It
// keeps the warning when sh starts leaving lines out, and the count when
// it keeps one again.
func (l *LogRing) admitLocked(sh *share, t time.Time) bool {
	if sh.tokens < 1 {
		if sh.dropped == 0 {
			l.keepLocked(shareNotice(sh.plugin, t, "the console's log ring is leaving out this plugin's lines for a while: its share of the ring is full (they still go to the log output)", -1), t.Unix(), false)
		}
		sh.dropped++
		return false
	}
	sh.tokens--
	if sh.dropped > 0 {
		l.keepLocked(shareNotice(sh.plugin, t, "lines of this plugin not kept in the console's log ring (they went to the log output)", sh.dropped), t.Unix(), false)
		sh.dropped = 0
	}
	return true
}

// shareNotice is the ring's own warning about plugin's lines, a JSON line
// as the logger writes them, with the count of lines left out when it is
// not negative.
func shareNotice(plugin string, t time.Time, msg string, lines int64) []byte {
	var n *int64
	if lines >= 0 {
		n = &lines
	}
	b, _ := json.Marshal(struct { // strings and a number: it cannot fail
		Level     string `json:"level"`
		Component string `json:"component"`
		Plugin    string `json:"plugin"`
		Lines     *int64 `json:"lines,omitempty"`
		Time      string `json:"time"`
		Message   string `json:"message"`
	}{"warn", "console", plugin, n, t.UTC().Format(time.RFC3339), msg})
	return b
}

// keepLocked stores one line, reusing the slot's buffer, and counts it;
// guest says it is a plugin's own (see countLocked).
func (l *LogRing) keepLocked(line []byte, now int64, guest bool) {
	slot := &l.lines[l.next%uint64(len(l.lines))]
	*slot = append((*slot)[:0], line[:min(len(line), maxLogLineBytes)]...)
	l.next++
	l.countLocked(line, now, guest)
}

// countLocked counts line in the status page's figures, kept or not. A
// guest line, one a plugin's own code wrote (through Share), counts as an
// error line at most, never as a request: a plugin that logs the message
// "request" writes a line that ends as an access log line does.
func (l *LogRing) countLocked(line []byte, now int64, guest bool) {
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
	if guest || !bytes.HasSuffix(line, []byte(`"message":"request"}`)) {
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
