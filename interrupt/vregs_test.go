package interrupt

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite vregs.go from wazero's sources")

// TestOpVRegs_derived derives the tables of vregs.go from the sources of
// the wazero this module builds with, and fails when they differ: a wazero
// upgrade whose compiler allocates more virtual registers for an
// instruction must raise them (go test ./interrupt -run TestOpVRegs
// -update). It skips when the sources are not at hand.
//
// For each case of the compiler's frontend (wazevo/frontend, the function
// lowerCurrentOpcode), it takes the worst path through the case and the
// frontend's functions it calls: the SSA instructions on it (the As*
// calls), each one value when its opcode defines one, plus what the amd64
// and arm64 backends allocate lowering that opcode (AllocateVReg calls
// along the worst path of its case of LowerInstr, LowerConditionalBranch
// or LowerSingleBranch, through the backend's functions), the larger of
// the two. An if whose condition never holds under the host's
// configuration (knownFalse) takes its other branch only. See frame.go
// for what the tables leave to the frame's other terms.
func TestOpVRegs_derived(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/tetratelabs/wazero").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("wazero's sources, which CI must have (go mod download): %v", err)
		}
		t.Skipf("wazero's sources: %v", err)
	}
	got, err := deriveVRegs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("vregs.go", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile("vregs.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("vregs.go differs from what wazero's sources give: run go test ./interrupt -run TestOpVRegs -update, and check the weights that grew")
	}
}

// deriveVRegs returns vregs.go as derived from the wazero sources in dir.
func deriveVRegs(dir string) ([]byte, error) {
	wz := filepath.Join(dir, "internal/engine/wazevo")
	asOps, noValue, err := ssaOpcodes(filepath.Join(wz, "ssa/instructions.go"))
	if err != nil {
		return nil, err
	}
	// Per backend: what it allocates lowering each SSA opcode (its case
	// of LowerInstr, or the branch lowerings), then what each Wasm
	// instruction's SSA instructions add up to; the larger of the two.
	cases := map[string]int{}
	for _, isa := range []string{"amd64", "arm64"} {
		temps, err := backendTemps(filepath.Join(wz, "backend/isa", isa))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", isa, err)
		}
		c, err := frontendVRegs(filepath.Join(wz, "frontend"), temps, asOps, noValue)
		if err != nil {
			return nil, err
		}
		for k, v := range c {
			cases[k] = max(cases[k], v)
		}
	}
	return renderVRegs(filepath.Join(dir, "internal/wasm/instruction.go"), cases)
}

// backendTemps returns what the backend in dir allocates lowering each
// SSA opcode, by its name without "Opcode".
func backendTemps(dir string) (map[string]int, error) {
	be, err := newPathCost(dir, func(n string) (int, bool) { return 1, n == "AllocateVReg" })
	if err != nil {
		return nil, err
	}
	be.cur = "LowerInstr"
	t := be.cases("LowerInstr")
	for k, v := range be.cases("LowerSingleBranch") {
		t[k] = max(t[k], v)
	}
	t["OpcodeBrz"], t["OpcodeBrnz"] = be.fn("LowerConditionalBranch"), be.fn("LowerConditionalBranch")
	if err := be.check(); err != nil {
		return nil, err
	}
	temps := map[string]int{}
	for k, v := range t {
		temps[strings.TrimPrefix(k, "Opcode")] = v
	}
	return temps, nil
}

// frontendVRegs returns, by the name of each Wasm opcode constant of a
// case of the frontend's lowerCurrentOpcode, the virtual registers its
// worst path allocates, given the backend's temps.
func frontendVRegs(dir string, temps map[string]int, asOps map[string][]string, noValue map[string]bool) (map[string]int, error) {
	fe, err := newPathCost(dir, nil)
	if err != nil {
		return nil, err
	}
	fe.leaf = func(n string) (int, bool) {
		switch n {
		case "emitTryTableLeaves", "emitTryTableLeave": // no try_table frames
			return 0, true
		case "reloadAfterCall", "reloadMemoryBaseLen":
			// Loads that are dead, and removed, unless a later global.get
			// or memory access uses one, whose own path could have made
			// that load instead: counted there.
			return 0, true
		case "AsExitIfTrueWithCode":
			// The Icmp it tests, emitted just before it, is lowered inside
			// it (or the compile panics): counted here, not twice.
			return temps["ExitIfTrueWithCode"] - temps["Icmp"], true
		}
		ops, ok := asOps[n]
		if !ok {
			return 0, false
		}
		c, v := 0, 0
		for _, op := range ops {
			c = max(c, temps[op])
			if !noValue[op] {
				v = 1
			}
		}
		return v + c, true
	}
	fe.cur = "lowerCurrentOpcode"
	cases := fe.cases("lowerCurrentOpcode")
	if err := fe.check(); err != nil {
		return nil, err
	}
	return cases, nil
}

// ssaOpcodes returns, for each As* method of ssa.Instruction, the SSA
// opcodes it may set, and the opcodes whose instruction defines no value
// (calls too: frame.go counts their results from the callee's type).
func ssaOpcodes(path string) (map[string][]string, map[string]bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, nil, err
	}
	asOps := map[string][]string{
		"AsExtLoad": {"Uload8", "Uload16", "Uload32", "Sload8", "Sload16", "Sload32"},
		"AsStore":   {"Store", "Istore8", "Istore16", "Istore32"},
		// Sets no opcode itself: it calls AsCallIndirect.
		"AsCallGoRuntimeMemmove": {"CallIndirect"},
	}
	noValue := map[string]bool{"Call": true, "CallIndirect": true, "TailCallReturnCall": true, "TailCallReturnCallIndirect": true}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && strings.HasPrefix(fd.Name.Name, "As") && asOps[fd.Name.Name] == nil {
			asOps[fd.Name.Name] = []string{}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				as, ok := n.(*ast.AssignStmt)
				if !ok || len(as.Lhs) != 1 {
					return true
				}
				sel, ok1 := as.Lhs[0].(*ast.SelectorExpr)
				id, ok2 := as.Rhs[0].(*ast.Ident)
				if ok1 && ok2 && sel.Sel.Name == "opcode" {
					asOps[fd.Name.Name] = append(asOps[fd.Name.Name], strings.TrimPrefix(id.Name, "Opcode"))
				}
				return true
			})
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if kv, ok := n.(*ast.KeyValueExpr); ok {
			k, ok1 := kv.Key.(*ast.Ident)
			v, ok2 := kv.Value.(*ast.Ident)
			if ok1 && ok2 && v.Name == "returnTypesFnNoReturns" {
				noValue[strings.TrimPrefix(k.Name, "Opcode")] = true
			}
		}
		return true
	})
	return asOps, noValue, nil
}

// renderVRegs writes the tables, by the opcode constants of wazero's
// wasm package (path), from the frontend's cases. Every opcode the
// rewriter accepts must have a case.
func renderVRegs(path string, cases map[string]int) ([]byte, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, err
	}
	tables := map[string][]string{}
	found := map[string]bool{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, sp := range gd.Specs {
			vs := sp.(*ast.ValueSpec)
			if len(vs.Values) != 1 {
				continue
			}
			lit, ok := vs.Values[0].(*ast.BasicLit)
			name, typ := vs.Names[0].Name, "Opcode" // untyped: ref.null, ref.is_null, ref.func
			if id, ok := vs.Type.(*ast.Ident); ok {
				typ = id.Name
			}
			if !ok {
				continue
			}
			table := map[string]string{"Opcode": "opVRegs", "OpcodeTailCall": "opVRegs", "OpcodeMisc": "miscVRegs", "OpcodeVec": "simdVRegs"}[typ]
			k, ok := cases[name]
			op, err := strconv.ParseUint(lit.Value, 0, 32)
			if table == "" || !ok || err != nil || op > 0xff {
				continue
			}
			key := fmt.Sprintf("%s 0x%02x", table, op)
			found[key] = true
			if k > 0 {
				tables[table] = append(tables[table], fmt.Sprintf("0x%02x: %d, // %s", op, k, strings.TrimPrefix(name, "Opcode")))
			}
		}
	}
	var missing []string
	for op := range 256 {
		if opcodes[op] != 0 && op != prefixMisc && op != prefixSIMD && !found[fmt.Sprintf("opVRegs 0x%02x", op)] {
			missing = append(missing, fmt.Sprintf("0x%02x", op))
		}
		if op < len(misc) && !found[fmt.Sprintf("miscVRegs 0x%02x", op)] {
			missing = append(missing, fmt.Sprintf("0xfc 0x%02x", op))
		}
		if simd(uint32(op)) != 0 && !found[fmt.Sprintf("simdVRegs 0x%02x", op)] {
			missing = append(missing, fmt.Sprintf("0xfd 0x%02x", op))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("opcodes the rewriter accepts without a case in wazero's frontend: %v", missing)
	}
	var b bytes.Buffer
	b.WriteString("// Code generated by go test ./interrupt -run TestOpVRegs -update; DO NOT EDIT.\n\npackage interrupt\n\n")
	b.WriteString("// opVRegs, miscVRegs (0xfc) and simdVRegs (0xfd) bound the virtual\n// registers wazero's optimizing compiler allocates for one instruction,\n// as TestOpVRegs_derived derives them from its sources (see frame.go).\n")
	for _, t := range []struct{ name, size string }{{"opVRegs", "256"}, {"miscVRegs", fmt.Sprint(len(misc))}, {"simdVRegs", "256"}} {
		lines := tables[t.name]
		slices.Sort(lines)
		fmt.Fprintf(&b, "var %s = [%s]uint16{\n\t%s\n}\n\n", t.name, t.size, strings.Join(lines, "\n\t"))
	}
	return format.Source(b.Bytes())
}
