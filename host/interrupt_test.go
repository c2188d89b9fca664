package host

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
)

// TestHost_interruptInit: a plugin that loops forever in its start
// section, in _initialize or in warden_init fails to load at the call
// timeout, with the stage and the deadline in its error, instead of hanging
// the load.
func TestHost_interruptInit(t *testing.T) {
	tests := []struct{ name, fixture, stage string }{
		{"StartSection", "interrupt/start_loops.wasm", "start function"},
		{"Initialize", "interrupt/initialize_loops.wasm", abi.ExportInitialize},
		{"Init", "bad/init_loops.wasm", abi.ExportInit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, pluginDir(t, tt.fixture), func(c *Config) { c.CallTimeout = 300 * time.Millisecond })
			errs := h.LoadErrors()
			if len(errs) != 1 || len(h.Plugins()) != 0 {
				t.Fatalf("load errors %v, plugins %d: want the one plugin refused", errs, len(h.Plugins()))
			}
			msg := errs[0].Err.Error()
			if !strings.Contains(msg, tt.stage+": context deadline exceeded") {
				t.Fatalf("load error %q, want %q and the deadline", msg, tt.stage)
			}
		})
	}
}

// TestHost_interruptHandler: a handler that loops forever in a loop that
// carries a value, inside another loop, ends with code 4 at its deadline,
// and the plugin serves the next call on a new instance. The plugin's
// start section ran before warden_init (its init fails otherwise).
func TestHost_interruptHandler(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "interrupt/spin.wasm"), func(c *Config) { c.CallTimeout = 300 * time.Millisecond })
	if errs := h.LoadErrors(); len(errs) != 0 {
		t.Fatalf("load errors: %v", errs)
	}
	for range 2 {
		ce := callErr(t, h, &Request{ID: "spin"})
		if ce.Code != abi.CodeDeadlineExceeded || ce.Message != "rpc exceeded its deadline" {
			t.Fatalf("code %d %q, want 4 %q", ce.Code, ce.Message, "rpc exceeded its deadline")
		}
	}
}

// TestHost_interruptHandlerCoarse: the same runaway handler under a call
// timeout long enough for the host's sweeper (coarseCallMin) rather than a
// timer: the sweeper, not a timer, must stop it, with code 4, never before
// its deadline, and the next call gets a new instance and is stopped too.
func TestHost_interruptHandlerCoarse(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "interrupt/spin.wasm"), func(c *Config) { c.CallTimeout = coarseCallMin })
	if errs := h.LoadErrors(); len(errs) != 0 {
		t.Fatalf("load errors: %v", errs)
	}
	for range 2 {
		start := time.Now()
		ce := callErr(t, h, &Request{ID: "spin"})
		if ce.Code != abi.CodeDeadlineExceeded || ce.Message != "rpc exceeded its deadline" {
			t.Fatalf("code %d %q, want 4 %q", ce.Code, ce.Message, "rpc exceeded its deadline")
		}
		if d := time.Since(start); d < coarseCallMin {
			t.Fatalf("stopped after %v, before its %v deadline", d, coarseCallMin)
		}
	}
}

// TestHost_interruptAttacks: plugins that try to reach or forge the
// interrupt flag are refused at load, with an error that says why.
func TestHost_interruptAttacks(t *testing.T) {
	dir := pluginDir(t, "interrupt/reserved.wasm")
	// warden_handle loops, clearing global 1 on every iteration: the
	// module defines one global (0), so index 1 is where the interrupt
	// flag is appended.
	flagSet := []byte{0x00, 0x03, 0x40, 0x41, 0x00, 0x24, 0x01, 0x0c, 0x00, 0x0b, 0x41, 0x00, 0x0b}
	// warden_handle declares 2^32-1 locals: wazero would allocate for
	// each at compile time, gigabytes from a few bytes.
	locals := []byte{0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x41, 0x00, 0x0b}
	for name, handle := range map[string][]byte{"flagset": flagSet, "locals": locals} {
		if err := os.WriteFile(filepath.Join(dir, name+".wasm"), handModule(handle), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := newTestHost(t, dir, nil)
	if n := len(h.Plugins()); n != 0 {
		t.Fatalf("%d plugins loaded, want none", n)
	}
	want := map[string]string{
		"reserved": `instrument: section 7 at 0x2d: export "__warden_interrupt": the name is reserved for the host`,
		"locals":   "instrument: function 2: declares more than 50000 locals: over the host's limit",
		"flagset":  `instrument: function 2: offset 0x76: global 1: the module has 1 globals: refers to a global past the module's own`,
	}
	for _, e := range h.LoadErrors() {
		if !strings.Contains(e.Err.Error(), want[e.Plugin]) || want[e.Plugin] == "" {
			t.Errorf("plugin %s: load error %q, want %q", e.Plugin, e.Err, want[e.Plugin])
		}
		delete(want, e.Plugin)
	}
	if len(want) != 0 {
		t.Errorf("not refused: %v", want)
	}
}

// handModule is a plugin with one global and a memory, whose warden_handle
// is handle (its locals and code). Written by hand, as an assembler
// refuses the attacks.
func handModule(handle []byte) []byte {
	w := []byte("\x00asm\x01\x00\x00\x00")
	section := func(id byte, body ...byte) {
		w = append(binary.AppendUvarint(append(w, id), uint64(len(body))), body...)
	}
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	section(1, 3, 0x60, 0x00, 0x00, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f)
	section(3, 3, 0, 1, 2)
	section(5, 1, 0x00, 0x01)
	section(6, 1, 0x7f, 0x01, 0x41, 0x00, 0x0b)
	var exports []byte
	for i, n := range []string{abi.ExportMemory, abi.ExportMarker, abi.ExportInit, abi.ExportHandle} {
		kind, idx := byte(0x00), byte(i-1)
		if i == 0 {
			kind, idx = 0x02, 0
		}
		exports = append(append(exports, name(n)...), kind, idx)
	}
	section(7, append([]byte{4}, exports...)...)
	section(10, append([]byte{3, 2, 0x00, 0x0b, 4, 0x00, 0x41, 0x00, 0x0b, byte(len(handle))}, handle...)...)
	return w
}
