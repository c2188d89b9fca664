package host

import (
	"bytes"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
)

// lineWriter turns a guest's stdout or stderr into log lines at one level,
// each spending one line of the plugin's log budget. Each instance has its
// own, and an instance runs one call at a time, so it needs no lock.
type lineWriter struct {
	log    *zerolog.Logger
	budget *logBudget
	level  zerolog.Level
	stream string
	buf    []byte // the start of an unfinished line, at most abi.MaxLineBytes
}

// Write logs every complete line in p and keeps the start of an unfinished
// one for the next write. A line longer than abi.MaxLineBytes is logged in
// pieces of that size. It walks p once, and reads no more of it than the
// lines it logs: when the budget is spent, the rest of p and the kept start
// are dropped unread, counted as one line; when the level is not logged,
// all of p is. It always reports all of p written.
func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	if w.level < max(w.log.GetLevel(), zerolog.GlobalLevel()) {
		return n, nil
	}
	for len(p) > 0 {
		if w.budget.dropIfSpent() {
			w.buf = w.buf[:0]
			return n, nil
		}
		room := abi.MaxLineBytes - len(w.buf)
		var line []byte
		if i := bytes.IndexByte(p[:min(len(p), room+1)], '\n'); i >= 0 {
			line, p = p[:i], p[i+1:]
		} else if len(p) > room {
			line, p = p[:room], p[room:]
		} else {
			// A full piece waits too: the next byte may end its line.
			if w.buf == nil {
				w.buf = make([]byte, 0, abi.MaxLineBytes)
			}
			w.buf = append(w.buf, p...)
			return n, nil
		}
		if len(w.buf) > 0 {
			line = append(w.buf, line...)
			w.buf = w.buf[:0]
		}
		if w.budget.take() {
			w.log.WithLevel(w.level).Str("stream", w.stream).Msg(string(bytes.ToValidUTF8(line, []byte("\uFFFD"))))
		}
	}
	return n, nil
}
