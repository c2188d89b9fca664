package abi_test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// sig renders a Func as "name(i32,i64)->i32" for comparisons.
func sig(f abi.Func) string {
	enc := func(ts []abi.ValType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = map[abi.ValType]string{abi.I32: "i32", abi.I64: "i64"}[t]
		}
		return strings.Join(s, ",")
	}
	return f.Name + "(" + enc(f.Params) + ")->" + enc(f.Results)
}

func wantSigs() []string {
	var out []string
	for _, f := range abi.Imports() {
		out = append(out, sig(f))
	}
	return out
}

// specSigs reads the host-function headings of ABI.md, such as
// "#### `log(level: i32, msg_ptr: i32, msg_len: i32) -> i32` (I, H)".
func specSigs(t *testing.T) []string {
	t.Helper()
	heading := regexp.MustCompile("^#### `(\\w+)\\(([^)]*)\\)(?: -> (\\w+|\\(\\)))?`")
	var out []string
	for _, line := range readLines(t, "ABI.md") {
		m := heading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var params []string
		for _, p := range strings.Split(m[2], ",") {
			if p = strings.TrimSpace(p); p != "" {
				_, typ, _ := strings.Cut(p, ":")
				params = append(params, strings.TrimSpace(typ))
			}
		}
		res := m[3]
		if res == "()" {
			res = ""
		}
		out = append(out, m[1]+"("+strings.Join(params, ",")+")->"+res)
	}
	return out
}

// rustSigs reads the raw import block of the Rust SDK.
func rustSigs(t *testing.T) []string {
	t.Helper()
	decl := regexp.MustCompile(`^\s*pub fn (\w+)\(([^)]*)\)(?:\s*->\s*(\w+))?;`)
	types := map[string]string{"*const u8": "i32", "*mut u8": "i32", "usize": "i32", "i32": "i32", "u32": "i32", "i64": "i64", "u64": "i64"}
	var out []string
	inBlock := false
	for _, line := range readLines(t, "../sdk/rust/src/sys.rs") {
		if strings.Contains(line, `wasm_import_module = "`+abi.ModuleName+`"`) {
			inBlock = true
			continue
		}
		if inBlock && strings.HasPrefix(line, "}") {
			break
		}
		m := decl.FindStringSubmatch(line)
		if !inBlock || m == nil {
			continue
		}
		var params []string
		for _, p := range strings.Split(m[2], ",") {
			if p = strings.TrimSpace(p); p != "" {
				_, typ, _ := strings.Cut(p, ":")
				w, ok := types[strings.TrimSpace(typ)]
				if !ok {
					t.Errorf("sys.rs %s: parameter type %q is not an ABI type", m[1], typ)
				}
				params = append(params, w)
			}
		}
		res := ""
		if m[3] != "" {
			res = types[m[3]]
		}
		out = append(out, m[1]+"("+strings.Join(params, ",")+")->"+res)
	}
	return out
}

// asSigs reads the raw @external layer of the AssemblyScript SDK. Every
// @external line must be one import, named as in ABI.md.
func asSigs(t *testing.T) []string {
	t.Helper()
	decl := regexp.MustCompile(`^@external\("` + abi.ModuleName + `", "(\w+)"\) export declare function (\w+)\(([^)]*)\): (\w+);$`)
	types := map[string]string{"i32": "i32", "u32": "i32", "usize": "i32", "i64": "i64", "u64": "i64", "void": ""}
	var out []string
	for _, line := range readLines(t, "../sdk/assemblyscript/assembly/env.ts") {
		if !strings.HasPrefix(line, "@external(") {
			continue
		}
		m := decl.FindStringSubmatch(line)
		if m == nil || m[1] != m[2] {
			t.Errorf("env.ts: %q is not one import per line named as in ABI.md", line)
			continue
		}
		var params []string
		for _, p := range strings.Split(m[3], ",") {
			if p = strings.TrimSpace(p); p != "" {
				_, typ, _ := strings.Cut(p, ":")
				w, ok := types[strings.TrimSpace(typ)]
				if !ok || w == "" {
					t.Errorf("env.ts %s: parameter type %q is not an ABI type", m[2], typ)
				}
				params = append(params, w)
			}
		}
		res, ok := types[m[4]]
		if !ok {
			t.Errorf("env.ts %s: result type %q is not an ABI type", m[2], m[4])
		}
		out = append(out, m[2]+"("+strings.Join(params, ",")+")->"+res)
	}
	return out
}

// goSigs reads the //go:wasmimport declarations of the Go guest SDK.
func goSigs(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../sdk/go/internal/sys/sys.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{"unsafe.Pointer": "i32", "uint32": "i32", "int32": "i32", "int64": "i64", "uint64": "i64"}
	typeOf := func(e ast.Expr) string {
		name := types[typeString(e)]
		if name == "" {
			t.Errorf("sys.go: type %s is not an ABI type", typeString(e))
		}
		return name
	}
	var out []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Doc == nil {
			continue
		}
		var module, name string
		for _, c := range fn.Doc.List {
			if fields := strings.Fields(c.Text); len(fields) == 3 && fields[0] == "//go:wasmimport" {
				module, name = fields[1], fields[2]
			}
		}
		if module != abi.ModuleName {
			continue
		}
		var params []string
		for _, field := range fn.Type.Params.List {
			for range max(1, len(field.Names)) {
				params = append(params, typeOf(field.Type))
			}
		}
		res := ""
		if fn.Type.Results != nil && len(fn.Type.Results.List) == 1 {
			res = typeOf(fn.Type.Results.List[0].Type)
		}
		out = append(out, name+"("+strings.Join(params, ",")+")->"+res)
	}
	return out
}

// typeString renders a parameter type expression such as unsafe.Pointer.
func typeString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return typeString(x.X) + "." + x.Sel.Name
	}
	return fmt.Sprintf("%T", e)
}

// cSigs reads the WARDEN_IMPORT declarations of the C SDK's header.
func cSigs(t *testing.T) []string {
	t.Helper()
	decl := regexp.MustCompile(`^WARDEN_IMPORT\((\w+)\) ([\w ]+?) warden_(\w+)\(([^)]*)\);$`)
	types := map[string]string{"int32_t": "i32", "uint32_t": "i32", "int64_t": "i64", "uint64_t": "i64", "void": ""}
	typeOf := func(decl string) string {
		decl = strings.TrimSpace(decl)
		if strings.Contains(decl, "*") {
			return "i32" // a pointer: wasm32
		}
		fields := strings.Fields(decl)
		w, ok := types[fields[0]]
		if !ok {
			t.Errorf("warden.h: type %q is not an ABI type", decl)
		}
		return w
	}
	var out []string
	for _, line := range readLines(t, "../sdk/c/warden.h") {
		if !strings.HasPrefix(line, "WARDEN_IMPORT(") {
			continue
		}
		m := decl.FindStringSubmatch(line)
		if m == nil || m[1] != m[3] {
			t.Errorf("warden.h: %q is not one import per line named as in ABI.md", line)
			continue
		}
		var params []string
		if m[4] != "void" {
			for _, p := range strings.Split(m[4], ",") {
				params = append(params, typeOf(p))
			}
		}
		out = append(out, m[1]+"("+strings.Join(params, ",")+")->"+typeOf(m[2]))
	}
	return out
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// section returns the lines of ABI.md from the first line that starts with
// from up to the next line that starts with to.
func section(t *testing.T, from, to string) []string {
	t.Helper()
	lines := readLines(t, "ABI.md")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, from) })
	if start < 0 {
		t.Fatalf("ABI.md has no line starting %q", from)
	}
	end := slices.IndexFunc(lines[start+1:], func(l string) bool { return strings.HasPrefix(l, to) })
	if end < 0 {
		return lines[start:]
	}
	return lines[start : start+1+end]
}

// TestContract checks that ABI.md, the Go constants and every SDK's raw
// import layer list the same host functions with the same types. The host's
// own table is checked against abi.Imports() in package host.
func TestContract(t *testing.T) {
	want := wantSigs()
	slices.Sort(want)
	sources := []struct {
		name string
		got  func(*testing.T) []string
	}{
		{"ABI.md", specSigs},
		{"sdk/rust/src/sys.rs", rustSigs},
		{"sdk/assemblyscript/assembly/env.ts", asSigs},
		{"sdk/go/internal/sys/sys.go", goSigs},
		{"sdk/c/warden.h", cSigs},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			got := src.got(t)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%s declares\n  %v\nabi.Imports() has\n  %v", src.name, got, want)
			}
		})
	}
}

// TestContract_statuses checks ABI.md's status table against abi.Statuses().
func TestContract_statuses(t *testing.T) {
	row := regexp.MustCompile(`^\| ([A-Z_]+) \| (-?\d+) \|`)
	var got []string
	for _, line := range section(t, "### 1.2", "## 2.") {
		if m := row.FindStringSubmatch(line); m != nil {
			got = append(got, m[1]+"="+m[2])
		}
	}
	var want []string
	for _, s := range abi.Statuses() {
		want = append(want, s.String()+"="+strconv.Itoa(int(s)))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ABI.md statuses\n  %v\nabi.Statuses()\n  %v", got, want)
	}
}

// TestContract_contextKeys checks ABI.md's context key table.
func TestContract_contextKeys(t *testing.T) {
	row := regexp.MustCompile("^\\| `([a-z_.]+)(?:<[A-Za-z]+>)?` \\|")
	var got []string
	for _, line := range section(t, "### 3.3", "### 3.4") {
		if m := row.FindStringSubmatch(line); m != nil {
			got = append(got, m[1])
		}
	}
	if want := abi.ContextKeys(); !slices.Equal(got, want) {
		t.Fatalf("ABI.md context keys\n  %v\nabi.ContextKeys()\n  %v", got, want)
	}
}

// TestContract_codes checks ABI.md's error code table against Code.HTTPStatus.
func TestContract_codes(t *testing.T) {
	row := regexp.MustCompile(`^\| (\d+) \| [A-Z_]+ \| (\d+) \|`)
	n := 0
	for _, line := range readLines(t, "ABI.md") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		code, _ := strconv.Atoi(m[1])
		status, _ := strconv.Atoi(m[2])
		if got := abi.Code(code).HTTPStatus(); got != status {
			t.Errorf("code %d: ABI.md says HTTP %d, HTTPStatus() = %d", code, status, got)
		}
		n++
	}
	if n != 16 {
		t.Fatalf("ABI.md lists %d codes, want 16", n)
	}
}
