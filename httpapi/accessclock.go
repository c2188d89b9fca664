package httpapi

import "time"

// wallClock gives the wall-clock time of a request's end from the
// monotonic reading the request already takes (time since the server's
// epoch), so that the access log's timestamp costs no second clock read,
// and keeps the text of the current second, so that it is formatted once
// a second rather than once a line.
//
// # Notes
//
// The wall time of a monotonic reading m is anchor's wall time plus m's
// distance from anchor, which is what time.Now would have read at m: the
// kernel slews both clocks alike, so they part only when the wall clock is
// stepped (settimeofday, a resume from suspend). The owner re-anchors it
// every access log flush (100 ms at most), so a step shows in the log at
// most that long later. A time.Now reading itself reads the two clocks a
// few tens of nanoseconds apart; the printed second can differ from a
// direct reading's only that close to a second's edge. Not safe for
// concurrent use: lineBuffer guards it with its mutex.
type wallClock struct {
	// anchor is a time.Now reading, with its wall and monotonic times.
	anchor time.Time
	// sec is the Unix second whose timestamp text holds, valid when text
	// is not empty.
	sec  int64
	text []byte
}

// timestamp returns the timestamp (appendTimestamp) of the instant mono
// after epoch, which must carry a monotonic reading. The result is valid
// until the next call.
func (c *wallClock) timestamp(epoch time.Time, mono time.Duration) []byte {
	ns := c.anchor.UnixNano() + int64(mono-c.anchor.Sub(epoch))
	sec := ns / int64(time.Second)
	if ns%int64(time.Second) < 0 {
		sec-- // before 1970: round down, as time.Unix does
	}
	if len(c.text) == 0 || sec != c.sec {
		c.text = appendTimestamp(c.text[:0], time.Unix(sec, 0))
		c.sec = sec
	}
	return c.text
}
