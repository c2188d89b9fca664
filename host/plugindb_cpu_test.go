package host

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestHost_pluginDatabases_deadlineStopsFunctions: a statement is
// interrupted at its call's deadline between the steps of its program,
// but SQLite never looks at the interrupt inside one function call, and
// some built-in functions take time in the product of their arguments'
// lengths: instr and replace compare the needle at every offset of the
// haystack, trim, ltrim and rtrim compare every character with every
// character of the set. On a 2-core VM one instr over 1.6 MB took 28 s,
// one trim of 100,000 characters 63 s under a 3 s deadline (and within
// the 4 MiB value limit, minutes and a day); the plugin's call, its
// instance, its connection and a core stayed taken that long, and a few
// such calls take every core of the host. A call must end near its
// deadline whatever its statement calls.
func TestHost_pluginDatabases_deadlineStopsFunctions(t *testing.T) {
	const deadline = 200 * time.Millisecond
	h := newTestHost(t, pluginDir(t, "sqlprobe.wasm"), func(c *Config) {
		c.Logger = zerolog.Nop()
		c.CallTimeout = deadline
	})
	for _, tc := range []struct{ name, sql string }{
		{"instr", "SELECT instr(printf('%.*c', 800000, 'a'), printf('%.*c', 400000, 'a') || 'b')"},
		{"replace", "SELECT length(replace(printf('%.*c', 800000, 'a'), printf('%.*c', 400000, 'a') || 'b', 'x'))"},
		{"trim", "SELECT length(trim(printf('%.*c', 30000, 'a'), printf('%.*c', 15000, 'b') || 'a'))"},
		{"rtrim", "SELECT length(rtrim(printf('%.*c', 30000, 'a'), replace(printf('%.*c', 15000, 'x'), 'x', 'é') || 'a'))"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, _ = h.Call(context.Background(), &Request{ID: "query", Payload: []byte(tc.sql)})
			if took := time.Since(start); took > deadline+time.Second {
				t.Fatalf("a call with a deadline of %v took %v", deadline, took.Round(time.Millisecond))
			}
		})
	}
}
