package host

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
)

// logTally tallies the JSON log lines written to it, one per Write as
// zerolog writes them, and keeps none: one plugin's lines by level, by
// stream and by message, and its over-budget reports. Each report must be
// a warn line naming the plugin and its version, whose message says the
// count its dropped field carries.
type logTally struct {
	t        *testing.T
	plugin   string
	mu       sync.Mutex
	levels   map[string]int // plugin lines by level, reports left out
	streams  map[string]int // stdout and stderr lines by stream
	messages map[string]int // plugin lines by message, reports left out
	reports  int            // "plugin log over budget" lines
	dropped  int64          // the lines those report
}

// newLogTally tallies the lines of the logflood fixture.
func newLogTally(t *testing.T) *logTally { return newLogTallyOf(t, "logflood") }

// newLogTallyOf tallies the lines of plugin.
func newLogTallyOf(t *testing.T, plugin string) *logTally {
	return &logTally{t: t, plugin: plugin, levels: map[string]int{}, streams: map[string]int{}, messages: map[string]int{}}
}

func (lt *logTally) Write(line []byte) (int, error) {
	var e struct {
		Level, Message, Plugin, Stream string
		Version                        string `json:"plugin_version"`
		Dropped                        *int64
	}
	if err := json.Unmarshal(line, &e); err != nil {
		lt.t.Errorf("log line %.80q: %v", line, err)
	}
	lt.mu.Lock()
	defer lt.mu.Unlock()
	switch {
	case e.Dropped != nil:
		want := fmt.Sprintf("plugin log over budget: %d lines dropped", *e.Dropped)
		if e.Level != "warn" || e.Message != want || e.Plugin != lt.plugin || e.Version == "" {
			lt.t.Errorf("report %s; want a warn %q with plugin and plugin_version", line, want)
		}
		lt.reports++
		lt.dropped += *e.Dropped
	case e.Plugin == lt.plugin:
		lt.levels[e.Level]++
		lt.messages[e.Message]++
		if e.Stream != "" {
			lt.streams[e.Stream]++
		}
	}
	return len(line), nil
}

// reset forgets what was tallied.
func (lt *logTally) reset() {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	clear(lt.levels)
	clear(lt.streams)
	clear(lt.messages)
	lt.reports, lt.dropped = 0, 0
}

// freezeLogBudget stops the clock of the log budget of h's one plugin and
// keeps its report timer from firing, so that counts are exact: the budget
// never refills, and what is dropped after the first report is reported
// when the plugin closes. It returns the plugin.
func freezeLogBudget(t *testing.T, h *Host) *Plugin {
	t.Helper()
	ps := h.Plugins()
	if len(ps) != 1 {
		t.Fatalf("%d plugins, want 1", len(ps))
	}
	b := ps[0].logs
	b.clock = func() time.Duration { return 0 }
	b.after = func(time.Duration, func()) func() bool { return func() bool { return true } }
	return ps[0]
}

// logfloodHost serves the logflood fixture with its log budget frozen,
// logging to a tally at level from here on.
func logfloodHost(t *testing.T, level zerolog.Level) (*Host, *logTally) {
	t.Helper()
	logs := newLogTally(t)
	h := newTestHost(t, pluginDir(t, "logflood.wasm"), func(c *Config) {
		c.Logger = zerolog.New(logs).Level(level)
		c.CallTimeout = time.Minute // a busy machine under -race never meets it
	})
	freezeLogBudget(t, h)
	logs.reset()
	return h, logs
}

// flood calls logflood's RPC rpc with the payload a, b, c, d and returns
// its answer: for log, how many log calls returned OK; for spill,
// fd_write's nwritten and errno.
func flood(t *testing.T, h *Host, rpc string, a, b, c, d uint32) (uint32, uint32) {
	t.Helper()
	var in []byte
	for _, v := range []uint32{a, b, c, d} {
		in = binary.LittleEndian.AppendUint32(in, v)
	}
	res, err := h.Call(context.Background(), &Request{ID: rpc, Payload: in})
	if err != nil {
		t.Fatalf("%s: %v", rpc, err)
	}
	if len(res.Output) != 8 {
		t.Fatalf("%s answered %d bytes", rpc, len(res.Output))
	}
	return binary.LittleEndian.Uint32(res.Output), binary.LittleEndian.Uint32(res.Output[4:])
}

// closeAndTally closes h, which reports what its plugin dropped since the
// last report, and returns what logs tallied.
func closeAndTally(t *testing.T, h *Host, logs *logTally) *logTally {
	t.Helper()
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return logs
}

// TestHost_Call_logBudget: the reproducer of a log flood, kept. A plugin
// version's lines, through log and stdout, from all its instances, come
// out of one budget; a line over it is dropped and counted, and log
// still returns OK. Before the budget, the flood wrote every line.
func TestHost_Call_logBudget(t *testing.T) {
	const burst = abi.MaxLogBurstLines
	t.Run("OK", func(t *testing.T) {
		h, logs := logfloodHost(t, zerolog.InfoLevel)
		const n = burst + 1000
		if ok, _ := flood(t, h, "log", uint32(abi.LogError), 100, n, 0); ok != n {
			t.Errorf("log returned OK %d times of %d", ok, n)
		}
		got := closeAndTally(t, h, logs)
		if got.levels["error"] != burst || got.dropped != n-burst {
			t.Errorf("%d lines written and %d reported dropped; want %d and %d", got.levels["error"], got.dropped, burst, n-burst)
		}
		if got.reports != 2 {
			t.Errorf("%d reports, want 2: the first drop at once, the rest when the plugin closed", got.reports)
		}
	})
	t.Run("OKSharedByInstances", func(t *testing.T) {
		h, logs := logfloodHost(t, zerolog.InfoLevel)
		const callers = 4
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				if ok, _ := flood(t, h, "log", uint32(abi.LogError), 10, burst, 0); ok != burst {
					t.Errorf("log returned OK %d times of %d", ok, burst)
				}
			})
		}
		wg.Wait()
		got := closeAndTally(t, h, logs)
		if got.levels["error"] != burst || got.dropped != (callers-1)*burst {
			t.Errorf("%d lines written and %d dropped by %d concurrent calls; want %d and %d",
				got.levels["error"], got.dropped, callers, burst, (callers-1)*burst)
		}
	})
	t.Run("OKSharedWithStdout", func(t *testing.T) {
		h, logs := logfloodHost(t, zerolog.InfoLevel)
		flood(t, h, "log", uint32(abi.LogInfo), 10, burst-10, 0)
		// 20 lines of 7 bytes; the 11th finds the budget spent, and the
		// rest of the write is dropped unread, counted as one line.
		if n, errno := flood(t, h, "spill", 20*8, 8, 1, 1); n != 20*8 || errno != 0 {
			t.Errorf("fd_write: %d bytes, errno %d; want 160, 0", n, errno)
		}
		got := closeAndTally(t, h, logs)
		if got.streams["stdout"] != 10 || got.dropped != 1 {
			t.Errorf("%d stdout lines and %d dropped; want 10 and 1", got.streams["stdout"], got.dropped)
		}
	})
	t.Run("OKLevelOff", func(t *testing.T) {
		// Lines at a level that is not written spend nothing.
		h, logs := logfloodHost(t, zerolog.WarnLevel)
		flood(t, h, "log", uint32(abi.LogInfo), 10, burst, 0)
		flood(t, h, "spill", burst*8, 8, 1, 1)
		flood(t, h, "log", uint32(abi.LogError), 10, 10, 0)
		got := closeAndTally(t, h, logs)
		if got.levels["error"] != 10 || got.levels["info"] != 0 || got.dropped != 0 {
			t.Errorf("%v, %d dropped; want 10 error lines and none dropped", got.levels, got.dropped)
		}
	})
}

// fakeTimer is a logBudget report timer that the test fires.
type fakeTimer struct {
	armed   []time.Duration // the delay of each timer armed
	pending func()          // the armed timer's function, or nil
}

func (f *fakeTimer) after(d time.Duration, fn func()) func() bool {
	f.armed, f.pending = append(f.armed, d), fn
	return func() bool {
		stopped := f.pending != nil
		f.pending = nil
		return stopped
	}
}

// fire runs the armed timer's function, if one is armed.
func (f *fakeTimer) fire() {
	if fn := f.pending; fn != nil {
		f.pending = nil
		fn()
	}
}

// testBudget returns a budget logging to logs, on a clock that reads *now
// and a timer that f fires.
func testBudget(logs *logBuffer, now *time.Duration, f *fakeTimer) *logBudget {
	l := zerolog.New(logs).With().Str("plugin", "logflood").Str("plugin_version", "v").Logger()
	b := newLogBudget(&l)
	b.clock = func() time.Duration { return *now }
	b.after = f.after
	return b
}

// takes calls b.take n times and returns how many lines it allowed.
func takes(b *logBudget, n int) int {
	ok := 0
	for range n {
		if b.take() {
			ok++
		}
	}
	return ok
}

// drops calls b.take until it has refused n lines, or gives up after
// as many tries as a full bucket and n could take.
func drops(b *logBudget, n int) {
	for tries := abi.MaxLogBurstLines + n; n > 0 && tries > 0; tries-- {
		if !b.take() {
			n--
		}
	}
}

// TestLogBudget_take checks the bucket on an injected clock: a burst, then
// one line per refill interval, and never more than a burst after a long
// quiet spell.
func TestLogBudget_take(t *testing.T) {
	const interval = time.Second / abi.MaxLogLinesPerSecond
	var now time.Duration
	b := testBudget(&logBuffer{}, &now, &fakeTimer{})
	steps := []struct {
		name    string
		advance time.Duration
		tries   int
		want    int
	}{
		{"burst", 0, abi.MaxLogBurstLines + 10, abi.MaxLogBurstLines},
		{"lessThanAnInterval", interval - 1, 5, 0},
		{"oneInterval", 1, 5, 1},
		{"oneSecond", time.Second, 2 * abi.MaxLogLinesPerSecond, abi.MaxLogLinesPerSecond},
		{"anHour", time.Hour, 3 * abi.MaxLogBurstLines, abi.MaxLogBurstLines},
	}
	for _, s := range steps {
		now += s.advance
		if got := takes(b, s.tries); got != s.want {
			t.Errorf("%s: %d of %d lines allowed, want %d", s.name, got, s.tries, s.want)
		}
	}
}

// TestLogBudget_report checks the over-budget reports on an injected clock
// and timer: the first drop is reported at once, later ones by one timer
// at most once a second, and what is left when the budget closes; after
// that, nothing.
func TestLogBudget_report(t *testing.T) {
	var now time.Duration
	logs, timer := &logBuffer{}, &fakeTimer{}
	b := testBudget(logs, &now, timer)
	steps := []struct {
		name    string
		advance time.Duration
		act     func()
		reports []int64         // the dropped count of each report
		armed   []time.Duration // every timer armed so far
	}{
		{"firstDrops", 0, func() { drops(b, 3) }, []int64{1}, []time.Duration{time.Second}},
		{"withinTheSecond", 400 * time.Millisecond, func() { drops(b, 5) }, nil, []time.Duration{time.Second}},
		{"timerFires", 600 * time.Millisecond, timer.fire, []int64{7}, []time.Duration{time.Second}},
		{"nextDrops", 250 * time.Millisecond, func() { drops(b, 2) }, nil, []time.Duration{time.Second, 750 * time.Millisecond}},
		{"close", 0, b.close, []int64{2}, []time.Duration{time.Second, 750 * time.Millisecond}},
		{"afterClose", time.Second, func() { drops(b, 3) }, nil, []time.Duration{time.Second, 750 * time.Millisecond}},
	}
	for _, s := range steps {
		now += s.advance
		s.act()
		var got []int64
		for line := range strings.Lines(logs.take()) {
			var e struct{ Dropped int64 }
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, e.Dropped)
		}
		if !slices.Equal(got, s.reports) || !slices.Equal(timer.armed, s.armed) {
			t.Errorf("%s: reports %v, timers armed %v; want %v and %v", s.name, got, timer.armed, s.reports, s.armed)
		}
	}
	if timer.pending != nil {
		t.Error("a report timer is still armed after close")
	}
}
