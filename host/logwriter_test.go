package host

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
)

// newTestLineWriter returns a stdout lineWriter of the plugin logflood,
// logging to logs, with a budget of its own.
func newTestLineWriter(logs io.Writer) *lineWriter {
	l := zerolog.New(logs).With().Str("plugin", "logflood").Logger()
	return &lineWriter{log: &l, budget: newLogBudget(&l), level: zerolog.InfoLevel, stream: "stdout"}
}

// messages returns the message of each line of out.
func messages(t *testing.T, out string) []string {
	t.Helper()
	var msgs []string
	for line := range strings.Lines(out) {
		var e struct{ Message string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, e.Message)
	}
	return msgs
}

// abbrev shortens each line longer than 16 bytes to its start and length,
// for a failure message.
func abbrev(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l
		if len(l) > 16 {
			out[i] = fmt.Sprintf("%s…(%d bytes)", l[:8], len(l))
		}
	}
	return out
}

// TestLineWriter_Write checks how writes become lines: complete lines at
// once, an unfinished one kept for the next write, a long one in pieces of
// abi.MaxLineBytes, invalid UTF-8 replaced.
func TestLineWriter_Write(t *testing.T) {
	const limit = abi.MaxLineBytes
	long := strings.Repeat("x", limit)
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"lines", []string{"a\nb\n\nc"}, []string{"a", "b", ""}},
		{"unfinished", []string{"ab", "c", "d\ne"}, []string{"abcd"}},
		{"exactlyMax", []string{long + "\n"}, []string{long}},
		{"exactlyMaxNewlineLater", []string{long, "\n"}, []string{long}},
		{"exactlyMaxAcrossWrites", []string{long[:10], long[10:], "\nz\n"}, []string{long, "z"}},
		{"pieces", []string{long + long + "yz\n"}, []string{long, long, "yz"}},
		{"piecesAcrossWrites", []string{"ab", long, "\n"}, []string{"ab" + long[:limit-2], "xx"}},
		{"invalidUTF8", []string{"a\xffb\n"}, []string{"a\uFFFDb"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logBuffer{}
			w := newTestLineWriter(logs)
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(s))
				}
			}
			if got := messages(t, logs.take()); !slices.Equal(got, tc.want) {
				t.Errorf("lines %q, want %q", abbrev(got), abbrev(tc.want))
			}
		})
	}
}

// TestLineWriter_holdsOneLine: a write of 2 MiB with no newline is logged
// in 8 KiB pieces as it is walked, and the writer never holds more than
// one line. It held the whole write and, after each piece, copied the
// rest down and searched it again: work quadratic in the write's size (one
// fd_write of 16 MiB held the host 5.6 s), and the write kept for the
// instance's life.
func TestLineWriter_holdsOneLine(t *testing.T) {
	logs := newLogTally(t)
	w := newTestLineWriter(logs)
	const size = 2 << 20
	if n, _ := w.Write([]byte(strings.Repeat("A", size))); n != size {
		t.Fatalf("Write = %d, want %d", n, size)
	}
	if c := cap(w.buf); c > abi.MaxLineBytes {
		t.Errorf("the writer holds %d bytes, want at most one line (%d)", c, abi.MaxLineBytes)
	}
	// The last piece waits for the next byte, which may end its line.
	if got := logs.streams["stdout"]; got != size/abi.MaxLineBytes-1 {
		t.Errorf("%d lines, want %d", got, size/abi.MaxLineBytes-1)
	}
}

// TestHost_Call_stdoutSpill: the reproducer of a long stdout write, kept.
// With 100 lines of its log budget left, a plugin makes one fd_write that
// names the same 4 MiB, with no newline, in 16 iovecs: 8192 pieces of a
// line. The host logs 100 pieces and stops reading when the budget is
// spent: the rest of the first iovec and each later one are dropped
// unread, counted one line each. The guest sees every byte written.
// Before, the host logged all 8192 pieces, searching each iovec in
// quadratic time, and nothing bounded how many iovecs it would read.
func TestHost_Call_stdoutSpill(t *testing.T) {
	const size, iovecs, left = 4 << 20, 16, 100
	h, logs := logfloodHost(t, zerolog.InfoLevel)
	flood(t, h, "log", uint32(abi.LogInfo), 10, abi.MaxLogBurstLines-left, 0)
	n, errno := flood(t, h, "spill", size, 0, iovecs, 1)
	if n != size*iovecs || errno != 0 {
		t.Errorf("fd_write: %d bytes, errno %d; want %d, 0", n, errno, size*iovecs)
	}
	got := closeAndTally(t, h, logs)
	if got.streams["stdout"] != left || got.dropped != iovecs {
		t.Errorf("%d stdout lines and %d dropped; want %d and %d", got.streams["stdout"], got.dropped, left, iovecs)
	}
}
