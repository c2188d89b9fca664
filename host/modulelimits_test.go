package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
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
			if err := checkModuleLimits(wasm); err != nil {
				t.Fatal(err)
			}
			d, _ := readModule(wasm)
			if len(d.tables) != 1 || !d.tables[0].hasMax || d.tables[0].max > abi.MaxTableElements || d.elemSegments != 1 {
				t.Fatalf("declares %+v", d)
			}
			t.Logf("%d globals, %d data segments, %d element segments of %d elements", d.globals, d.dataSegments, d.elemSegments, d.elements)
		})
	}
}

func TestReadModule_tables(t *testing.T) {
	tests := []struct {
		name, wasm string
		want       []tableDecl
		wantErr    string
	}{
		{"NoTables", hdr, nil, ""},
		{"MinMax", hdr + "\x04\x05\x01\x70\x01\x03\x07", []tableDecl{{min: 3, max: 7, hasMax: true}}, ""},
		{"NoMax", hdr + "\x04\x05\x01\x70\x00\x80\x01", []tableDecl{{min: 128}}, ""},
		{"ImportThenDefined", hdr + "\x02\x0f\x02\x01m\x01f\x00\x00\x01m\x01t\x01\x70\x00\x02" + "\x04\x05\x01\x70\x01\x01\x04",
			[]tableDecl{{module: "m", name: "t", min: 2}, {index: 1, min: 1, max: 4, hasMax: true}}, ""},
		{"InitExpr", hdr + "\x04\x0a\x01\x40\x00\x70\x01\x01\x02\xd0\x70\x0b", []tableDecl{{min: 1, max: 2, hasMax: true}}, ""},
		{"ErrInitExprOp", hdr + "\x04\x08\x01\x40\x00\x70\x01\x01\x02\x00", nil, "unsupported instruction"},
		{"ErrBadMagic", "\x00asm\x02\x00\x00\x00", nil, "not a WebAssembly"},
		{"ErrSectionTooLong", hdr + "\x04\x7f\x01", nil, "truncated"},
		{"ErrLEBTooLong", hdr + "\x04\x80\x80\x80\x80\x80\x01", nil, "malformed LEB128"},
		{"ErrLEBOverflow", hdr + "\x04\x08\x01\x70\x00\xff\xff\xff\xff\x7f", nil, "malformed LEB128"},
		{"ErrUnknownImportKind", hdr + "\x02\x06\x01\x01m\x01f\x09", nil, "unknown kind"},
		{"ErrTableFlag", hdr + "\x04\x04\x01\x70\x04\x01", nil, "unknown table limits flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := readModule([]byte(tt.wasm))
			got := d.tables
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("readModule() = %+v, %v, want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("readModule() = %+v, %v, want %+v", got, err, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("table %d = %#v, want %#v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// FuzzModuleTables checks that the module reader never panics or reads out
// of bounds, whatever the bytes, and agrees with checkModuleLimits.
func FuzzModuleTables(f *testing.F) {
	for _, name := range []string{"tables/unbounded.wasm", "tables/huge_min.wasm", "tables/imported.wasm", "tables/grow.wasm", "hostile.wasm"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x04\x0a\x01\x40\x00\x70\x01\x01\x02\xd0\x70\x0b"))
	for _, c := range []declCounts{{globals: 3, dataSegments: 2, elemSegments: 2, elements: 5}, {dataSegments: 1}} {
		f.Add(limitModule("fuzz", c))
	}
	for _, seg := range segmentCases {
		f.Add([]byte(seg.wasm))
	}
	f.Fuzz(func(t *testing.T, wasm []byte) {
		d, err := readModule(wasm)
		cerr := checkModuleLimits(wasm)
		if err != nil {
			if cerr == nil {
				t.Fatalf("checkModuleLimits accepted a module readModule could not read: %v", err)
			}
			return
		}
		bounded := d.globals <= abi.MaxGlobals && d.dataSegments <= abi.MaxDataSegments &&
			d.elemSegments <= abi.MaxElementSegments && d.elements <= abi.MaxSegmentElements
		var total uint64
		for i, tt := range d.tables {
			if tt.index != uint32(i) {
				t.Fatalf("table %d has index %d", i, tt.index)
			}
			bounded = bounded && tt.hasMax && tt.max <= abi.MaxTableElements
			total += uint64(tt.max)
		}
		bounded = bounded && total <= abi.MaxTableElements
		if bounded != (cerr == nil) {
			t.Fatalf("declares %+v: checkModuleLimits = %v", d, cerr)
		}
	})
}

// segmentCases are modules whose globals and segments readModule counts.
var segmentCases = []struct {
	name, wasm string
	want       moduleDecls
	wantErr    string
}{
	{"ImportedAndDefinedGlobals", hdr + "\x02\x0f\x02\x01m\x01g\x03\x7f\x00\x01m\x01h\x03\x7e\x01" +
		"\x06\x0e\x02\x7f\x01\x41\x00\x0b\x7d\x00\x43\x00\x00\x00\x00\x0b",
		moduleDecls{globals: 4}, ""},
	{"DataSegments", hdr + "\x0b\x07\x02\x01\x01x\x01\x01y", moduleDecls{dataSegments: 2}, ""},
	// Flags 0 (active, function indexes), 1 (passive), 2 (explicit
	// table), 3 (declarative), 4 to 7 (the same with expressions).
	{"ElementSegments", hdr + "\x09\x35\x08" +
		"\x00\x41\x00\x0b\x02\x00\x01" +
		"\x01\x00\x01\x00" +
		"\x02\x00\x41\x00\x0b\x00\x01\x00" +
		"\x03\x00\x00" +
		"\x04\x41\x00\x0b\x01\xd2\x00\x0b" +
		"\x05\x70\x02\xd0\x70\x0b\xd2\x01\x0b" +
		"\x06\x00\x41\x00\x0b\x70\x00" +
		"\x07\x70\x01\xd2\x00\x0b",
		moduleDecls{elemSegments: 8, elements: 8}, ""},
	{"ErrElementFlags", hdr + "\x09\x02\x01\x08", moduleDecls{}, "unknown flags"},
	{"ErrElementTruncated", hdr + "\x09\x04\x01\x00\x41\x00", moduleDecls{}, "truncated"},
	{"ErrElementCountTooLarge", hdr + "\x09\x04\x01\x01\x00\x05", moduleDecls{}, "truncated"},
}

const hdr = "\x00asm\x01\x00\x00\x00"

func TestReadModule_segments(t *testing.T) {
	for _, tt := range segmentCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readModule([]byte(tt.wasm))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("readModule() = %+v, %v, want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.globals != tt.want.globals || got.dataSegments != tt.want.dataSegments ||
				got.elemSegments != tt.want.elemSegments || got.elements != tt.want.elements {
				t.Fatalf("readModule() = %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}

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
			"declares 1048577 data segments, more than the limit of", abi.MaxDataSegments},
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
