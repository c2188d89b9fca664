package interrupt

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"strings"
)

// none marks the cost of a path that does not exist (it panics).
const none = -1 << 30

// knownFalse are the conditions that never hold for a module the host
// runs: no function listeners, no ensureTermination (the host stops a
// guest with its own flag), no shared memory (wazero refuses it without
// the threads feature), no imported memory (the host refuses it at load)
// nor imported globals (no module the host provides exports one, so
// instantiation fails), no exception handling (the rewriter refuses it,
// so no try_table frames).
var knownFalse = map[string]bool{
	"c.needListener": true, "c.ensureTermination": true, "c.memoryShared": true,
	"c.offset.LocalMemoryBegin < 0": true, "index < c.m.ImportGlobalCount": true,
	"c.branchExitsTryTable(int(labelIndex))": true,
}

// pathCost is a worst-path analysis over the functions of one package:
// statements add up, the branches of an if or a switch are alternatives,
// a return ends a path and a panic drops it. A call is followed by its
// name, to the worst of the package's functions of that name; leaf gives
// a call's own cost when it is not one to follow.
type pathCost struct {
	decls map[string][]*ast.FuncDecl
	memo  map[string]int
	busy  map[string]bool
	leaf  func(name string) (int, bool)
	cur   string   // the function being read
	loops []string // loops that allocate, by function and position
	again []string // functions called again while read: recursion
}

// loopTimes bounds how often the loops that allocate run, by function:
// what frame.go counts per item (0: one pass counted here), or how many
// items wazero's own code can give them.
var loopTimes = map[string]int{
	// Per argument or result of a call: frame.go counts one temporary per
	// argument and result of a Wasm call; a call the frontend makes to
	// one of wazero's own functions (memory.grow, table.grow, memmove...)
	// passes at most four arguments and takes one result.
	"prepareCall": 4, "insertReturns": 1,
	// Per value a function returns: frame.go counts them.
	"LowerReturns": 0,
	// Per br_table target: frame.go counts each target's jump.
	"lowerBrTable": 0,
	// arm64 address modes: the addends of an address, which the frontend
	// makes of at most two nested Iadds (memOpSetup, atomicMemOpSetup,
	// table accesses): at most three values that are no Iadd, each
	// allocating at most what one pass does (the Iadds allocate nothing),
	// and at most two addends added to the first.
	"collectAddends": 3, "lowerToAddressModeFromAddends": 2,
	// Exception handling, which the host does not enable.
	"loadExceptionParams": 0, "lowerCurrentOpcode": 0,
}

func newPathCost(dir string, leaf func(string) (int, bool)) (*pathCost, error) {
	pc := &pathCost{decls: map[string][]*ast.FuncDecl{}, memo: map[string]int{}, busy: map[string]bool{}, leaf: leaf}
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		return nil, err
	}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
					pc.decls[fd.Name.Name] = append(pc.decls[fd.Name.Name], fd)
				}
			}
		}
	}
	return pc, nil
}

func (pc *pathCost) fn(name string) int {
	if v, ok := pc.memo[name]; ok {
		return v
	}
	if pc.busy[name] {
		pc.again = append(pc.again, name)
		return 0
	}
	pc.busy[name] = true
	prev := pc.cur
	pc.cur = name
	c := 0
	for _, d := range pc.decls[name] {
		f, r := pc.block(d.Body.List)
		c = max(c, f, r)
	}
	pc.cur = prev
	pc.busy[name] = false
	pc.memo[name] = c
	return c
}

// check reports loops of unknown bound, and recursion through a function
// that allocates, which the analysis cannot bound.
func (pc *pathCost) check() error {
	var rec []string
	for _, name := range pc.again {
		if pc.memo[name] > 0 {
			rec = append(rec, name)
		}
	}
	if len(pc.loops) > 0 || len(rec) > 0 {
		return fmt.Errorf("loops that allocate, of unknown bound: %v; recursion through functions that allocate: %v", pc.loops, rec)
	}
	return nil
}

func plus(x, y int) int {
	if x == none || y == none {
		return none
	}
	return x + y
}

// block returns the worst cost of the paths through list that fall
// through (f) and of those that return (r).
func (pc *pathCost) block(list []ast.Stmt) (f, r int) {
	f, r = 0, none
	for _, s := range list {
		if f == none {
			break
		}
		sf, sr := pc.stmt(s)
		if sr != none {
			r = max(r, f+sr)
		}
		f = plus(f, sf)
	}
	return f, r
}

func (pc *pathCost) stmt(s ast.Stmt) (int, int) {
	switch x := s.(type) {
	case nil, *ast.BranchStmt:
		return 0, none
	case *ast.BlockStmt:
		return pc.block(x.List)
	case *ast.LabeledStmt:
		return pc.stmt(x.Stmt)
	case *ast.ReturnStmt:
		c := 0
		for _, e := range x.Results {
			c += pc.expr(e)
		}
		return none, c
	case *ast.ExprStmt:
		if call, ok := x.X.(*ast.CallExpr); ok {
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "panic" {
				return none, none
			}
		}
		return pc.expr(x.X), none
	case *ast.IfStmt:
		pre, _ := pc.stmt(x.Init)
		pre += pc.expr(x.Cond)
		tf, tr := pc.stmt(x.Body)
		ef, er := 0, none
		if x.Else != nil {
			ef, er = pc.stmt(x.Else)
		}
		switch holds(x.Cond) {
		case 0:
			return plus(pre, ef), plus(pre, er)
		case 1:
			return plus(pre, tf), plus(pre, tr)
		}
		return plus(pre, max(tf, ef)), plus(pre, max(tr, er))
	case *ast.SwitchStmt:
		pre, _ := pc.stmt(x.Init)
		pre += pc.expr(x.Tag)
		f, r, def := none, none, false
		for _, cc := range x.Body.List {
			cl := cc.(*ast.CaseClause)
			def = def || cl.List == nil
			c := 0
			for _, e := range cl.List {
				c += pc.expr(e)
			}
			cf, cr := pc.block(cl.Body)
			f, r = max(f, plus(c, cf)), max(r, plus(c, cr))
		}
		if !def {
			f = max(f, 0)
		}
		return plus(pre, f), plus(pre, r)
	case *ast.TypeSwitchStmt:
		f, r := 0, none
		for _, cc := range x.Body.List {
			cf, cr := pc.block(cc.(*ast.CaseClause).Body)
			f, r = max(f, cf), max(r, cr)
		}
		return f, r
	case *ast.ForStmt:
		init, _ := pc.stmt(x.Init)
		return init + pc.loop(x.Body, x.Pos()), none
	case *ast.RangeStmt:
		return pc.expr(x.X) + pc.loop(x.Body, x.Pos()), none
	default:
		c := 0
		ast.Inspect(s, func(n ast.Node) bool {
			if e, ok := n.(ast.Expr); ok {
				c += pc.expr(e)
				return false
			}
			return true
		})
		return c, none
	}
}

// loop counts a loop that allocates as loopTimes says, and records one
// that loopTimes does not know.
func (pc *pathCost) loop(body *ast.BlockStmt, pos token.Pos) int {
	f, r := pc.stmt(body)
	c := max(f, r, 0)
	if c == 0 {
		return 0
	}
	n, ok := loopTimes[pc.cur]
	if !ok {
		pc.loops = append(pc.loops, fmt.Sprintf("%s at %d", pc.cur, pos))
	}
	return c * max(n, 1)
}

func (pc *pathCost) expr(e ast.Expr) int {
	c := 0
	if e == nil {
		return 0
	}
	ast.Inspect(e, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			f, r := pc.stmt(x.Body)
			c += max(f, r, 0)
			return false
		case *ast.CallExpr:
			var name string
			switch fe := x.Fun.(type) {
			case *ast.SelectorExpr:
				name = fe.Sel.Name
			case *ast.Ident:
				name = fe.Name
			}
			if v, ok := pc.leaf(name); ok {
				c += v
			} else {
				c += pc.fn(name)
			}
		}
		return true
	})
	return c
}

// holds evaluates cond under knownFalse: 0 false, 1 true, -1 unknown.
func holds(cond ast.Expr) int {
	switch x := cond.(type) {
	case *ast.ParenExpr:
		return holds(x.X)
	case *ast.UnaryExpr:
		if v := holds(x.X); x.Op == token.NOT && v >= 0 {
			return 1 - v
		}
		return -1
	case *ast.BinaryExpr:
		l, r := holds(x.X), holds(x.Y)
		switch {
		case x.Op == token.LAND && (l == 0 || r == 0), x.Op == token.LOR && l == 0 && r == 0:
			return 0
		case x.Op == token.LAND && l == 1 && r == 1, x.Op == token.LOR && (l == 1 || r == 1):
			return 1
		}
	}
	var b strings.Builder
	_ = printer.Fprint(&b, token.NewFileSet(), cond)
	if knownFalse[b.String()] {
		return 0
	}
	return -1
}

// cases returns the cost of each case of the switches in function fn,
// nested ones too, by the names of the constants it is labelled with.
func (pc *pathCost) cases(fn string) map[string]int {
	out := map[string]int{}
	var visit func(n ast.Node)
	visit = func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			sw, ok := n.(*ast.SwitchStmt)
			if !ok {
				return true
			}
			for _, cc := range sw.Body.List {
				cl := cc.(*ast.CaseClause)
				f, r := pc.block(cl.Body)
				for _, e := range cl.List {
					if s, ok := e.(*ast.SelectorExpr); ok {
						out[s.Sel.Name] = max(out[s.Sel.Name], f, r, 0)
					}
				}
				visit(&ast.BlockStmt{List: cl.Body})
			}
			return false
		})
	}
	for _, d := range pc.decls[fn] {
		visit(d.Body)
	}
	return out
}
