package host

import (
	"bytes"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
)

// lineWriter turns a guest's stdout or stderr into log lines at one level.
// Each instance has its own, and an instance runs one call at a time, so it
// needs no lock.
type lineWriter struct {
	log    *zerolog.Logger
	level  zerolog.Level
	stream string
	buf    []byte
}

// Write logs every complete line in p and keeps the rest for later. A line
// longer than abi.MaxLineBytes is logged in pieces.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 && len(w.buf) < abi.MaxLineBytes {
			return len(p), nil
		}
		if i < 0 || i > abi.MaxLineBytes {
			i = abi.MaxLineBytes
		}
		w.log.WithLevel(w.level).Str("stream", w.stream).Msg(string(bytes.ToValidUTF8(w.buf[:i], []byte("\uFFFD"))))
		if i < len(w.buf) && w.buf[i] == '\n' {
			i++
		}
		w.buf = append(w.buf[:0], w.buf[i:]...)
	}
}
