package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// serverLogger returns the access logger as cmd/server (newLogger) and
// NewServer derive it: a timestamp hook, the node, the component.
func serverLogger(w io.Writer) zerolog.Logger {
	root := zerolog.New(w).Level(zerolog.InfoLevel).With().Timestamp().Str("node", "warden").Logger()
	return root.With().Str("component", "httpapi").Logger()
}

// checkLine fails t unless e writes f's line exactly as zerolog writes it
// through l, at the time zerolog read (one of the readings around it).
func checkLine(t testing.TB, l zerolog.Logger, e *accessEncoder, f *accessFields) {
	t.Helper()
	var out bytes.Buffer
	zl := l.Output(&out)
	t0 := time.Now()
	f.logTo(&zl)
	t1 := time.Now()
	want := out.Bytes()
	got := e.appendLine(nil, f, appendTimestamp(nil, t0))
	if !bytes.Equal(got, want) && !bytes.Equal(e.appendLine(nil, f, appendTimestamp(nil, t1)), want) {
		t.Fatalf("fields %+v\nzerolog: %q\nencoder: %q", *f, want, got)
	}
}

// accessStrings are strings that exercise every escape zerolog makes.
var accessStrings = []string{
	"", "/v2/rpc/echo", `a"b`, `a\b`, `\"`, "</script>&'",
	"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f", "\x7f", "~\x7f\x80",
	"\xff", "a\xffb", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\xe2\x82\xac", "\xf0\x9f\x98",
	"é€😀", "\u2028\u2029", "\ufffd", "x\ufffdy\xfez", strings.Repeat("ab\"c\n", 50),
	"[::1]:40000", "203.0.113.7:1", "echo@1.0.0",
}

// accessDurations are durations at the edges of zerolog's float form.
var accessDurations = []time.Duration{
	0, 1, 999, 1000, time.Microsecond + 1, time.Millisecond, 91138 * time.Nanosecond,
	time.Second, 36 * time.Hour, -1, -time.Millisecond, math.MaxInt64, math.MinInt64,
}

func TestAccessEncoder_matchesZerolog(t *testing.T) {
	loggers := []struct {
		name string
		l    func(io.Writer) zerolog.Logger
	}{
		{"Server", serverLogger},
		{"NoTimestamp", func(w io.Writer) zerolog.Logger { return zerolog.New(w) }},
		{"Context", func(w io.Writer) zerolog.Logger {
			return zerolog.New(w).Level(zerolog.DebugLevel).With().Str("node", "n\"\x01\xff").Int("n", -3).
				Bool("b", true).Timestamp().Str("component", "httpapi").Logger()
		}},
	}
	for _, lg := range loggers {
		t.Run(lg.name, func(t *testing.T) {
			l := lg.l(io.Discard)
			e := newAccessEncoder(l)
			if e == nil {
				t.Fatal("no fast path for this logger")
			}
			for i, s := range accessStrings {
				d := accessDurations[i%len(accessDurations)]
				checkLine(t, l, e, &accessFields{s, s, s, s, 200, i, d, ""})
				checkLine(t, l, e, &accessFields{"id", "127.0.0.1:1", "GET", s, -i, math.MaxInt64, d, s})
			}
			for _, d := range accessDurations {
				checkLine(t, l, e, &accessFields{"id", "a", "POST", "/p", 0, 0, d, "p"})
			}
		})
	}
}

// FuzzAccessLine compares the encoder with zerolog, byte for byte, on
// any fields, through the server's logger.
func FuzzAccessLine(f *testing.F) {
	for i, s := range accessStrings {
		f.Add(s, "127.0.0.1:1", "GET", s, "", 200, i, int64(accessDurations[i%len(accessDurations)]))
	}
	f.Add("id", "[::1]:2", "POST", "/v2/rpc/echo", "echo@1.0.0", 503, -1, int64(-1))
	l := serverLogger(io.Discard)
	e := newAccessEncoder(l)
	if e == nil {
		f.Fatal("no fast path for the server's logger")
	}
	f.Fuzz(func(t *testing.T, reqID, remote, method, path, plugin string, status, size int, dur int64) {
		checkLine(t, l, e, &accessFields{reqID, remote, method, path, status, size, time.Duration(dur), plugin})
	})
}

// TestNewAccessEncoder_fallback checks that a logger whose lines the
// encoder would not reproduce gets no encoder, and so keeps zerolog.
func TestNewAccessEncoder_fallback(t *testing.T) {
	extraField := zerolog.HookFunc(func(e *zerolog.Event, _ zerolog.Level, _ string) { e.Str("x", "y") })
	fixedTime := zerolog.HookFunc(func(e *zerolog.Event, _ zerolog.Level, _ string) {
		e.Time(zerolog.TimestampFieldName, time.Unix(1e9, 0))
	})
	for _, tc := range []struct {
		name string
		l    zerolog.Logger
	}{
		{"Nop", zerolog.Nop()},
		{"LevelWarn", serverLogger(io.Discard).Level(zerolog.WarnLevel)},
		{"HookField", serverLogger(io.Discard).Hook(extraField)},
		{"HookTime", zerolog.New(io.Discard).Hook(fixedTime)},
		{"Sampler", serverLogger(io.Discard).Sample(&zerolog.BasicSampler{N: 2})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if e := newAccessEncoder(tc.l); e != nil {
				t.Fatalf("encoder %q…%q made for a logger it does not reproduce", e.prefix, e.tail)
			}
			b := newLineBuffer(io.Discard, tc.l, accessMaxBytes)
			defer b.Close()
			if b.writeAccess(&accessProbes[0], time.Now(), 0) {
				t.Fatal("writeAccess took a line zerolog must write")
			}
		})
	}
}

// TestLineBuffer_writeAccess checks the fast path's lines as they leave
// the buffer: zerolog's bytes, the clock's time for the request's end,
// whole lines after Close too, and nothing while zerolog's global level
// hides info.
func TestLineBuffer_writeAccess(t *testing.T) {
	var out syncBuffer
	l := serverLogger(&out)
	b := newLineBuffer(&out, l, accessMaxBytes)
	if b.enc == nil {
		t.Fatal("no fast path for the server's logger")
	}
	epoch := time.Now()
	var want [][2]string // the line for the reading before and after
	for i, s := range accessStrings {
		f := &accessFields{"id", "127.0.0.1:1", "GET", s, 200, i, time.Duration(i), "p@1"}
		t0 := time.Now()
		if !b.writeAccess(f, epoch, time.Since(epoch)) {
			t.Fatal("writeAccess refused a line")
		}
		t1 := time.Now()
		// The printed time is time.Now's for the request's end, a reading
		// between t0 and t1.
		want = append(want, [2]string{
			string(b.enc.appendLine(nil, f, appendTimestamp(nil, t0))),
			string(b.enc.appendLine(nil, f, appendTimestamp(nil, t1))),
		})
		if i == len(accessStrings)/2 {
			b.Close() // the rest go to out directly
		}
	}
	prev := zerolog.GlobalLevel()
	zerolog.SetGlobalLevel(zerolog.WarnLevel)
	hidden := b.writeAccess(&accessProbes[1], epoch, time.Since(epoch))
	zerolog.SetGlobalLevel(prev)
	if !hidden {
		t.Fatal("writeAccess handed a hidden line to zerolog")
	}
	lines := strings.SplitAfter(out.String(), "\n")
	lines = lines[:len(lines)-1]
	if len(lines) != len(want) {
		t.Fatalf("%d lines written, want %d", len(lines), len(want))
	}
	for i, got := range lines {
		if got != want[i][0] && got != want[i][1] {
			t.Fatalf("line %d:\n got %q\nwant %q", i, got, want[i][0])
		}
	}
}

// TestWallClock_timestamp checks the derived time against the reading it
// stands for, across second boundaries, with the anchor before, at and
// after the instant.
func TestWallClock_timestamp(t *testing.T) {
	epoch := time.Now()
	base := time.Duration(time.Second.Nanoseconds() - int64(epoch.Nanosecond())) // epoch+base is a whole second
	var c wallClock
	for _, anchor := range []time.Duration{0, base, 3*time.Second + 7, 90 * time.Minute} {
		c.anchor = epoch.Add(anchor) // wall and monotonic moved alike, as time.Now's are
		for _, m := range []time.Duration{0, 1, base - 1, base, base + 1, base + time.Second - 1, 2 * time.Hour} {
			want := appendTimestamp(nil, epoch.Add(m))
			if got := c.timestamp(epoch, m); !bytes.Equal(got, want) {
				t.Fatalf("anchor +%v, reading +%v: %s, want %s", anchor, m, got, want)
			}
		}
	}
}

// BenchmarkLogAccess measures one access log line into the batched
// buffer, through the server's logger: zerolog's event against the
// encoder, in the same run.
func BenchmarkLogAccess(b *testing.B) {
	buf := newLineBuffer(discard{}, serverLogger(discard{}), accessMaxBytes)
	b.Cleanup(buf.Close)
	if buf.enc == nil {
		b.Fatal("no fast path for the server's logger")
	}
	access := serverLogger(discard{}).Output(buf)
	f := accessFields{"64d90cd3-55e9-49c5-844a-749b92b009d3", "127.0.0.1:49964", "POST", "/v2/rpc/echo", 200, 7, 91138, "echo@f88ee60865a4"}
	epoch := time.Now()
	b.Run("zerolog", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			g := f
			g.duration = time.Since(epoch) // the request's end, as logAccess reads it
			g.logTo(&access)
			flushEvery(buf, i)
		}
	})
	b.Run("encoder", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			mono := time.Since(epoch)
			g := f
			g.duration = mono
			buf.writeAccess(&g, epoch, mono)
			flushEvery(buf, i)
		}
	})
}

// flushEvery flushes b every 128 lines (about 40 KiB), as its goroutine
// does in a server, where requests wait on the network: in a benchmark
// loop with one P the goroutine would run only when preempted, and the
// buffer's growth would be measured instead of the lines.
func flushEvery(b *lineBuffer, i int) {
	if i%128 == 127 {
		b.flush()
	}
}

// TestBenchmarkLogAccess runs the benchmark once, so that it cannot rot.
func TestBenchmarkLogAccess(t *testing.T) {
	if r := testing.Benchmark(BenchmarkLogAccess); r.N == 0 {
		t.Fatal("benchmark did not run")
	}
}

// TestAppendJSONFloat compares the float form of durations with
// zerolog's Float64 field, which writes floats the same way, over values
// that a duration in another unit (DurationFieldUnit) can give.
func TestAppendJSONFloat(t *testing.T) {
	vals := []float64{
		0, math.Copysign(0, -1), 1, -1, 0.5, 1e-6, 9.99e-7, 1e-7, 1.5e-10, -2e-9, 1e20, 1e21, 1.5e22,
		-1e21, 123456.789, 1.0 / 3, math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(),
		math.Inf(1), math.Inf(-1), 2.7777777777777777e-13, 9.223372036854776e+15,
	}
	for _, v := range vals {
		var out bytes.Buffer
		l := zerolog.New(&out)
		l.Log().Float64("v", v).Send()
		want := strings.TrimSuffix(strings.TrimPrefix(out.String(), `{"v":`), "}\n")
		if got := string(appendJSONFloat(nil, v, zerolog.FloatingPointPrecision)); got != want {
			t.Errorf("%v: %s, zerolog %s", v, got, want)
		}
	}
}

// TestLineBuffer_writeAccessFull checks the bound on the fast path: with
// out stalled, writeAccess never blocks, keeps whole lines only, and the
// lines it drops are counted in the warning.
func TestLineBuffer_writeAccessFull(t *testing.T) {
	out := &stalledWriter{release: make(chan struct{})}
	var warn syncBuffer
	b := newLineBuffer(out, serverLogger(&warn), 1024)
	const n = 100
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for range n {
			b.writeAccess(&accessProbes[1], time.Now(), 0)
		}
	}()
	select {
	case <-wrote:
	case <-time.After(30 * time.Second):
		t.Fatal("writeAccess blocked on a stalled output")
	}
	close(out.release)
	b.Close()
	kept := strings.Count(out.buf.String(), `"req_id":"probe-2"`)
	// One batch may be stuck in out.Write while the next one fills.
	if all := out.buf.String(); strings.Count(all, "\n") != kept || kept == 0 || len(all) > 2*1024 {
		t.Fatalf("%d whole lines kept in %d bytes: %q", kept, len(all), all)
	}
	if want := fmt.Sprintf(`"lines":%d,`, n-kept); !strings.Contains(warn.String(), want) {
		t.Fatalf("warning %q, want %s", warn.String(), want)
	}
}

// TestAppendMillis compares the integer form of milliseconds with the
// float one it stands for, around its bound and at every fraction length.
func TestAppendMillis(t *testing.T) {
	ds := []time.Duration{0, 1, 9, 10, 100, 91138, 999999, time.Millisecond, time.Millisecond + 1, 1234567890}
	for _, base := range []time.Duration{0, 7 * time.Hour, maxExactMillis - time.Hour} {
		for _, d := range ds {
			for _, v := range []time.Duration{base + d, -(base + d)} {
				want := string(appendJSONFloat(nil, float64(v)/float64(time.Millisecond), -1))
				if got := string(appendMillis(nil, v)); got != want {
					t.Errorf("%d ns: %s, want %s", int64(v), got, want)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		v := time.Duration(r.Int64N(int64(2*maxExactMillis-1))) - maxExactMillis + 1
		if r.IntN(2) == 0 {
			v /= time.Duration(1 + r.Int64N(1e9)) // short ones too
		}
		want := string(appendJSONFloat(nil, float64(v)/float64(time.Millisecond), -1))
		if got := string(appendMillis(nil, v)); got != want {
			t.Fatalf("%d ns: %s, want %s", int64(v), got, want)
		}
	}
	for v := maxExactMillis - 1e6; v < maxExactMillis; v += 997 {
		want := string(appendJSONFloat(nil, float64(v)/float64(time.Millisecond), -1))
		if got := string(appendMillis(nil, v)); got != want {
			t.Fatalf("%d ns: %s, want %s", int64(v), got, want)
		}
	}
}

// TestAppendJSONString compares the escaping with zerolog's Str field for
// each byte that needs care at every place in and around a word of eight,
// where plainPrefix switches from words to bytes.
func TestAppendJSONString(t *testing.T) {
	specials := []string{"\x00", "\x1f", " ", "~", "\x7f", "\x80", "\xff", `"`, `\`, "\n", "é", "\xe2\x82", "\u2028"}
	for _, sp := range specials {
		for at := range 18 {
			for _, n := range []int{at, at + 1, 24} {
				s := strings.Repeat("a", at) + sp + strings.Repeat("b", n-at)
				var out bytes.Buffer
				l := zerolog.New(&out)
				l.Log().Str("v", s).Send()
				want := strings.TrimSuffix(strings.TrimPrefix(out.String(), `{"v":`), "}\n")
				if got := string(appendJSONString(nil, s)); got != want {
					t.Fatalf("%q: %s, zerolog %s", s, got, want)
				}
			}
		}
	}
}
