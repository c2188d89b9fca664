package host

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/interrupt"
)

// TestHost_Reload_tables drops in plugins whose tables could grow past
// abi.MaxTableElements, one table or all together: each must be refused,
// naming the table and the limit, and the server must not have
// instantiated it.
func TestHost_Reload_tables(t *testing.T) {
	dir := t.TempDir()
	h := newTestHost(t, dir, nil)
	limit := "65536"
	tests := []struct {
		name, fixture, want string
	}{
		{"ErrNoMaximum", "tables/unbounded.wasm", "table 0 declares no maximum size"},
		{"ErrHugeMaximum", "tables/huge_min.wasm", "table 0 declares a maximum of 134217728 elements, more than the limit of " + limit},
		{"ErrImportedNoMaximum", "tables/imported.wasm", "imported table env.tbl (table 0) declares no maximum size"},
		{"ErrManyTables", "tables/many.wasm", "256 tables declare a maximum of 16777216 elements together, more than the limit of " + limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := strings.TrimSuffix(filepath.Base(tt.fixture), ".wasm")
			deploy(t, dir, name, fixture(t, tt.fixture))
			defer os.Remove(filepath.Join(dir, name+".wasm"))
			res, err := h.Reload(context.Background())
			if err != nil || len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Err.Error(), tt.want) ||
				!strings.Contains(res.Failed[0].Err.Error(), limit) {
				t.Fatalf("reload: %+v %v, want a failure containing %q and the limit", res, err, tt.want)
			}
			if n := len(h.Plugins()); n != 0 {
				t.Fatalf("%d plugins serve, want none", n)
			}
		})
	}
}

// TestHost_tableGrow checks that table.grow cannot pass a table's declared
// maximum: wazero enforces it, and the limit relies on that.
func TestHost_tableGrow(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "tables/grow.wasm"), nil)
	res, err := h.Call(context.Background(), &Request{ID: "grow"})
	if err != nil || string(res.Output) != "refused" {
		t.Fatalf("grow: %q %v, want table.grow refused", res.Output, err)
	}
}

// TestCheckModuleLimits_sdkPlugins checks every committed plugin of the
// four SDKs against the module limits: each declares one table, with a
// maximum, and counts within the limits. It logs the counts, the evidence
// for the limits (see RATIONALE.md).
func TestCheckModuleLimits_sdkPlugins(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../plugins/*/*.wasm", "../examples/*/*/*.wasm", "../conformance/*/*.wasm"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 13 {
		t.Fatalf("found %d committed plugins, want at least 13", len(files))
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			wasm, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := interrupt.Read(wasm)
			if err != nil {
				t.Fatal(err)
			}
			d := m.Decls()
			if err := checkModuleLimits(d); err != nil {
				t.Fatal(err)
			}
			if len(d.Tables) != 1 || !d.Tables[0].HasMax || d.Tables[0].Max > abi.MaxTableElements || d.ElemSegments != 1 {
				t.Fatalf("declares %+v", d)
			}
			t.Logf("%d globals, %d data segments, %d element segments of %d elements", d.Globals, d.DataSegments, d.ElemSegments, d.Elements)
		})
	}
}

// FuzzModuleTables checks that the module reader never panics or reads out
// of bounds, whatever the bytes, and that checkModuleLimits refuses exactly
// the modules it reads whose declarations pass a limit.
func FuzzModuleTables(f *testing.F) {
	for _, name := range []string{"tables/unbounded.wasm", "tables/huge_min.wasm", "tables/imported.wasm", "tables/grow.wasm", "hostile.wasm"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(hdr + "\x04\x05\x01\x70\x01\x03\x07"))
	f.Add([]byte(hdr + "\x02\x0f\x02\x01m\x01f\x00\x00\x01m\x01t\x01\x70\x00\x02" + "\x04\x05\x01\x70\x01\x01\x04"))
	f.Add([]byte(hdr + "\x0b\x07\x02\x01\x01x\x01\x01y"))
	for _, c := range []declCounts{{globals: 3, dataSegments: 2, elemSegments: 2, elements: 5}, {dataSegments: 1}} {
		f.Add(limitModule("fuzz", c))
	}
	f.Fuzz(func(t *testing.T, wasm []byte) {
		m, err := interrupt.Read(wasm)
		if err != nil {
			if _, rerr := readModule(wasm); rerr == nil {
				t.Fatalf("readModule accepted a module interrupt.Read refused: %v", err)
			}
			return
		}
		d := m.Decls()
		cerr := checkModuleLimits(d)
		if _, rerr := readModule(wasm); (rerr == nil) != (cerr == nil) {
			t.Fatalf("readModule = %v, checkModuleLimits = %v", rerr, cerr)
		}
		bounded := d.Globals <= abi.MaxGlobals && d.DataSegments <= abi.MaxDataSegments &&
			d.ElemSegments <= abi.MaxElementSegments && d.Elements <= abi.MaxSegmentElements
		var total uint64
		for i, tt := range d.Tables {
			if tt.Index != uint32(i) {
				t.Fatalf("table %d has index %d", i, tt.Index)
			}
			bounded = bounded && tt.HasMax && tt.Max <= abi.MaxTableElements
			total += uint64(tt.Max)
		}
		bounded = bounded && total <= abi.MaxTableElements
		if bounded != (cerr == nil) {
			t.Fatalf("declares %+v: checkModuleLimits = %v", d, cerr)
		}
	})
}

const hdr = "\x00asm\x01\x00\x00\x00"

// atLimits is a module that declares as much as the limits allow.
var atLimits = declCounts{globals: abi.MaxGlobals, dataSegments: abi.MaxDataSegments,
	elemSegments: abi.MaxElementSegments, elements: abi.MaxSegmentElements}

// TestHost_Reload_moduleLimits drops in plugins that declare one more
// global, data segment, element segment or element than the limits allow:
// each must be refused, naming the count and the limit, and the server
// must not have instantiated it. Then one at every limit loads and serves.
func TestHost_Reload_moduleLimits(t *testing.T) {
	dir := t.TempDir()
	h := newTestHost(t, dir, generousInit)
	over := func(edit func(*declCounts)) declCounts {
		c := declCounts{globals: 1, dataSegments: 1, elemSegments: 1, elements: 1}
		edit(&c)
		return c
	}
	tests := []struct {
		name  string
		c     declCounts
		want  string
		limit int
	}{
		{"ErrGlobals", over(func(c *declCounts) { c.globals = abi.MaxGlobals + 1 }),
			"declares 16385 globals, more than the limit of", abi.MaxGlobals},
		{"ErrDataSegments", over(func(c *declCounts) { c.dataSegments = abi.MaxDataSegments + 1 }),
			"declares 262145 data segments, more than the limit of", abi.MaxDataSegments},
		{"ErrElementSegments", over(func(c *declCounts) { c.elemSegments, c.elements = abi.MaxElementSegments+1, 0 }),
			"declares 4097 element segments, more than the limit of", abi.MaxElementSegments},
		{"ErrSegmentElements", over(func(c *declCounts) { c.elemSegments, c.elements = 2, abi.MaxSegmentElements+1 }),
			"element segments hold 65537 elements together, more than the limit of", abi.MaxSegmentElements},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deploy(t, dir, "over", limitModule("over", tt.c))
			defer os.Remove(filepath.Join(dir, "over.wasm"))
			res, err := h.Reload(context.Background())
			limit := fmt.Sprint(tt.limit)
			if err != nil || len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Err.Error(), tt.want+" "+limit) {
				t.Fatalf("reload: %+v %v, want a failure containing %q", res, err, tt.want+" "+limit)
			}
			if n := len(h.Plugins()); n != 0 {
				t.Fatalf("%d plugins serve, want none", n)
			}
		})
	}
	t.Run("AtLimits", func(t *testing.T) {
		deploy(t, dir, "at", limitModule("at", atLimits))
		res, err := h.Reload(context.Background())
		if err != nil || len(res.Failed) != 0 || len(h.Plugins()) != 1 {
			t.Fatalf("reload: %+v %v, want the plugin at every limit loaded", res, err)
		}
		if _, err := h.Call(context.Background(), &Request{ID: "at"}); err != nil {
			t.Fatalf("call: %v", err)
		}
	})
}

// generousInit gives a plugin at every limit a call timeout (which also
// bounds warden_init) far above what instantiating its 30 MiB of data takes
// under -race on a loaded machine: these tests check the limits, not speed.
func generousInit(c *Config) { c.CallTimeout = 2 * time.Minute }

// TestInstanceCost_atLimits measures what one more instance of a plugin at
// every limit costs the host's heap, beyond its linear memory (one page
// here): with the limits, some 30 MiB, mostly data segments. The bound is
// generous; without the limits, the same file size would allow gigabytes.
func TestInstanceCost_atLimits(t *testing.T) {
	h := newTestHost(t, t.TempDir(), generousInit)
	p, err := h.loadPlugin(context.Background(), newSnapshotFile("at.wasm", limitModule("at", atLimits), nil))
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	const n = 3
	before := heap()
	var insts []*instance
	for range n {
		inst, err := p.newInstance(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		insts = append(insts, inst)
	}
	per := (int64(heap()) - int64(before)) / n
	t.Logf("one instance at every limit costs %.1f MiB of heap", float64(per)/(1<<20))
	if per > 64<<20 {
		t.Fatalf("one instance costs %d bytes of heap, want at most 64 MiB", per)
	}
	for _, inst := range insts {
		_ = inst.mod.Close(context.Background())
	}
}

// TestReadModule_limitsBeforeRewrite checks that the limits are checked on
// the original's counts right after the one read, before the rewrite (and
// so before wazero): a module over the globals limit and without a memory,
// which the rewrite refuses, is refused for its globals.
func TestReadModule_limitsBeforeRewrite(t *testing.T) {
	n := abi.MaxGlobals + 1
	body := binary.AppendUvarint(nil, uint64(n))
	body = append(body, bytes.Repeat([]byte{0x7f, 0x00, 0x41, 0x00, 0x0b}, n)...)
	wasm := append(binary.AppendUvarint([]byte(hdr+"\x06"), uint64(len(body))), body...)
	if _, err := interrupt.Instrument(wasm); err == nil || !strings.Contains(err.Error(), "no memory") {
		t.Fatalf("Instrument() = %v, want the rewrite's refusal of a module without memory", err)
	}
	_, err := readModule(wasm)
	want := fmt.Sprintf("the module declares %d globals, more than the limit of %d (defined and imported together)", n, abi.MaxGlobals)
	if err == nil || err.Error() != want {
		t.Fatalf("readModule() = %v, want %q", err, want)
	}
}
