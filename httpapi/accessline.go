package httpapi

import (
	"bytes"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
)

// accessFields are the values of one access log line, in the line's order.
type accessFields struct {
	reqID, remoteAddr, method, path string
	// status is 0 when the handler wrote nothing.
	status, size int
	duration     time.Duration
	// plugin is the plugin version that answered; no field when empty.
	plugin string
}

// accessMessage is the access log line's message.
const accessMessage = "request"

// logTo writes f through l, the access logger, as a zerolog event: the
// reference that accessEncoder reproduces, and the path when it cannot.
func (f *accessFields) logTo(l *zerolog.Logger) {
	ev := l.Info().
		Str("req_id", f.reqID).
		Str("remote_addr", f.remoteAddr).
		Str("method", f.method).
		Str("path", f.path).
		Int("status", f.status).
		Int("size", f.size).
		Dur("duration", f.duration)
	if f.plugin != "" {
		ev = ev.Str("plugin", f.plugin)
	}
	ev.Msg(accessMessage)
}

// accessEncoder appends access log lines directly to a buffer, byte for
// byte as logTo makes zerolog write them, with no zerolog event.
//
// # Notes
//
// The parts that depend on the logger (its level field and context, and
// whether its hooks add a timestamp) are not readable from a
// zerolog.Logger; newAccessEncoder learns them by logging probe lines
// through the logger into memory, and checks them (see there). The parts
// that depend on zerolog's globals are read when the encoder is made: as
// with zerolog itself, globals are set by main before the server starts.
type accessEncoder struct {
	// prefix is the line up to the first field: `{"level":"info"` and the
	// logger's context, such as `,"node":"n","component":"httpapi"`.
	prefix []byte
	// timeKey is `,"time":`, or nil when the logger writes no timestamp.
	timeKey []byte
	// tail is the message and the end: `,"message":"request"}` and "\n".
	tail []byte
	dur  durationFormat
}

// durationFormat is how zerolog writes a Dur field: its globals
// DurationFieldUnit, DurationFieldFormat, DurationFieldInteger and
// FloatingPointPrecision.
type durationFormat struct {
	unit      time.Duration
	format    string
	integer   bool
	precision int
}

// zerologDurationFormat returns zerolog's current duration settings.
func zerologDurationFormat() durationFormat {
	return durationFormat{
		unit:      zerolog.DurationFieldUnit,
		format:    zerolog.DurationFieldFormat,
		integer:   zerolog.DurationFieldInteger, //nolint:staticcheck // read, as zerolog does, for the same bytes
		precision: zerolog.FloatingPointPrecision,
	}
}

// appendLine appends f's line with the timestamp ts (see appendTimestamp;
// ignored when the logger writes none).
func (e *accessEncoder) appendLine(dst []byte, f *accessFields, ts []byte) []byte {
	dst = append(dst, e.prefix...)
	dst = appendAccessFields(dst, f, e.dur)
	if e.timeKey != nil {
		dst = append(append(dst, e.timeKey...), ts...)
	}
	return append(dst, e.tail...)
}

// appendAccessFields appends f's fields, each after a comma.
func appendAccessFields(dst []byte, f *accessFields, dur durationFormat) []byte {
	dst = appendJSONString(append(dst, `,"req_id":`...), f.reqID)
	dst = appendJSONString(append(dst, `,"remote_addr":`...), f.remoteAddr)
	dst = appendJSONString(append(dst, `,"method":`...), f.method)
	dst = appendJSONString(append(dst, `,"path":`...), f.path)
	dst = strconv.AppendInt(append(dst, `,"status":`...), int64(f.status), 10)
	dst = strconv.AppendInt(append(dst, `,"size":`...), int64(f.size), 10)
	dst = dur.appendTo(append(dst, `,"duration":`...), f.duration)
	if f.plugin != "" {
		dst = appendJSONString(append(dst, `,"plugin":`...), f.plugin)
	}
	return dst
}

// appendTo appends d as zerolog's Dur does.
func (df durationFormat) appendTo(dst []byte, d time.Duration) []byte {
	if df.integer || df.format == zerolog.DurationFormatInt {
		return strconv.AppendInt(dst, int64(d/df.unit), 10)
	}
	if df.format == zerolog.DurationFormatString {
		return appendJSONString(dst, d.String())
	}
	if df.unit == time.Millisecond && df.precision == -1 && d > -maxExactMillis && d < maxExactMillis {
		return appendMillis(dst, d)
	}
	return appendJSONFloat(dst, float64(d)/float64(df.unit), df.precision)
}

// maxExactMillis bounds the durations that appendMillis writes: below it,
// d in milliseconds has at most 15 significant digits.
const maxExactMillis = 1e15 * time.Nanosecond

// appendMillis appends d in milliseconds as appendJSONFloat would, without
// floating point: float64(d)/1e6 is the double nearest to the exact
// decimal d/1e6, and a decimal of at most 15 significant digits is the
// shortest that reads back as its nearest double (any two such decimals
// have different nearest doubles), so strconv's shortest form of it is
// that decimal, its trailing zeros dropped.
func appendMillis(dst []byte, d time.Duration) []byte {
	if d < 0 {
		dst = append(dst, '-')
		d = -d
	}
	dst = strconv.AppendInt(dst, int64(d/time.Millisecond), 10)
	frac := uint32(d % time.Millisecond)
	if frac == 0 {
		return dst
	}
	var digits [6]byte // the fraction, with its leading zeros, two digits a step
	for i := len(digits) - 2; i >= 0; i -= 2 {
		pair := frac % 100
		frac /= 100
		digits[i], digits[i+1] = digitPairs[2*pair], digitPairs[2*pair+1]
	}
	n := len(digits)
	for digits[n-1] == '0' {
		n--
	}
	return append(append(dst, '.'), digits[:n]...)
}

// digitPairs are the two decimal digits of 0 to 99, in order.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// appendJSONFloat appends v as zerolog writes a float64: NaN and the
// infinities as strings; with precision -1, the shortest form, in
// exponent form below 1e-6 and from 1e21 on, without a leading zero in a
// negative exponent; otherwise with that many decimals.
func appendJSONFloat(dst []byte, v float64, precision int) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(dst, `"+Inf"`...)
	case math.IsInf(v, -1):
		return append(dst, `"-Inf"`...)
	}
	verb := byte('f')
	if a := math.Abs(v); precision == -1 && a != 0 && (a < 1e-6 || a >= 1e21) {
		verb = 'e'
	}
	dst = strconv.AppendFloat(dst, v, verb, precision, 64)
	if n := len(dst); verb == 'e' && n >= 4 && string(dst[n-4:n-1]) == "e-0" {
		dst[n-2] = dst[n-1] // e-07 → e-7
		dst = dst[:n-1]
	}
	return dst
}

// appendJSONString appends s as a JSON string, escaped as zerolog escapes
// it: `"` and `\` with a backslash; \b, \f, \n, \r and \t by name; the
// other bytes below 0x20, and 0x7f, as \u00XX; each byte of an invalid
// UTF-8 sequence as \ufffd; everything else, valid UTF-8 included, as is.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	i := plainPrefix(s)
	if i == len(s) { // the common case: copied at once
		return append(append(dst, s...), '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f && c != '"' && c != '\\':
			i++
			continue
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || n != 1 {
				i += n
				continue
			}
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
		default:
			dst = appendEscapedByte(append(dst, s[start:i]...), c)
		}
		i++
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}

// plainPrefix returns the length of the longest prefix of s that needs no
// escape: bytes from 0x20 to 0x7e but '"' and '\\'. It tests eight bytes
// at a time, then one at a time.
func plainPrefix(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) &^ v & highs } // exact: nonzero iff a byte is 0
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8] // one bounds check; the compiler merges the loads
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		special := x&highs | // 0x80 and up
			(x-ones*0x20)&^x&highs | // below 0x20 (exact for a bound up to 0x80)
			hasZero(x^(ones*0x7f)) | hasZero(x^(ones*'"')) | hasZero(x^(ones*'\\'))
		if special != 0 {
			break
		}
	}
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' {
		i++
	}
	return i
}

// appendEscapedByte appends the JSON escape of an ASCII byte that needs one.
func appendEscapedByte(dst []byte, c byte) []byte {
	const hex = "0123456789abcdef"
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
}

// appendTimestamp appends t as zerolog's timestamp hook writes it when
// zerolog.TimeFieldFormat is time.RFC3339 (the only format the encoder is
// made for).
func appendTimestamp(dst []byte, t time.Time) []byte {
	return append(t.AppendFormat(append(dst, '"'), time.RFC3339), '"')
}

// accessProbes are the lines newAccessEncoder logs through zerolog and
// compares: with and without a plugin, escapes of every kind, durations in
// the float's both forms, and no status.
var accessProbes = []accessFields{
	{"probe-1", "127.0.0.1:1", "GET", "/p/\"q\"\\\x00\x1f\x7f\n\t\xff\xed\xa0\x80é€", 200, 7, 1234567, ""},
	{"probe-2", "[::1]:2", "POST", "/v2/rpc/echo", 503, 0, 0, "echo@1.0.0"},
	{"probe-3", "", "", "", 0, -1, 36*time.Hour + 1, "p\u2028"},
}

// newAccessEncoder returns an encoder that writes the lines l writes, or
// nil when it cannot (the fast path then stays off and zerolog writes).
//
// # Notes
//
// It logs each of accessProbes through l into memory, reading the clock
// before and after, and requires every line to be exactly the encoder's
// for one of the two readings. So the fast path applies only when: l logs
// at info level (else there is nothing to write), zerolog.TimeFieldFormat
// is time.RFC3339, l's hooks add nothing but zerolog's timestamp (or
// nothing) and TimestampFunc gives the wall clock's time.Now, no sampler
// dropped a probe, and the duration globals give what the encoder
// computes. cmd/server's logger (Timestamp, node, component) passes; any
// other configuration is left to zerolog, which stays the reference.
func newAccessEncoder(l zerolog.Logger) *accessEncoder {
	if zerolog.TimeFieldFormat != time.RFC3339 || zerolog.DurationFieldUnit <= 0 {
		return nil
	}
	e := &accessEncoder{dur: zerologDurationFormat()}
	e.tail = appendJSONString(append(appendJSONKey(nil, zerolog.MessageFieldName), ':'), accessMessage)
	e.tail = append(e.tail, "}\n"...)
	timeKey := append(appendJSONKey(nil, zerolog.TimestampFieldName), ':')
	var out bytes.Buffer
	probe := l.Output(&out)
	for i := range accessProbes {
		f := &accessProbes[i]
		out.Reset()
		t0 := time.Now()
		f.logTo(&probe)
		t1 := time.Now()
		line := out.Bytes()
		if i == 0 && !e.learn(line, f, timeKey) {
			return nil
		}
		if !bytes.Equal(line, e.appendLine(nil, f, appendTimestamp(nil, t0))) &&
			!bytes.Equal(line, e.appendLine(nil, f, appendTimestamp(nil, t1))) {
			return nil
		}
	}
	return e
}

// learn sets e's prefix, and its timeKey when line has a timestamp, from
// the probe line that zerolog wrote for f. It reports whether line has
// the shape prefix, fields, [time], tail.
func (e *accessEncoder) learn(line []byte, f *accessFields, timeKey []byte) bool {
	fields := appendAccessFields(nil, f, e.dur)
	i := bytes.Index(line, fields)
	if i <= 0 || !bytes.HasSuffix(line, e.tail) {
		return false
	}
	e.prefix = bytes.Clone(line[:i])
	if rest := line[i+len(fields) : len(line)-len(e.tail)]; len(rest) > 0 {
		if !bytes.HasPrefix(rest, timeKey) {
			return false
		}
		e.timeKey = timeKey // the value is checked against the clock by the caller
	}
	return true
}

// appendJSONKey appends the comma before a field and its quoted key, as
// zerolog does after the line's first field.
func appendJSONKey(dst []byte, key string) []byte {
	return appendJSONString(append(dst, ','), key)
}
