package abi_test

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// limitName matches the name of a limit constant in abi.go.
var limitName = regexp.MustCompile(`^(?:Max|Default)[A-Z]\w*$`)

// goLimits type-checks abi.go and returns the value of every integer
// constant whose name starts with Max or Default.
func goLimits(t *testing.T) map[string]int64 {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "abi.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := new(types.Config).Check("abi", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatalf("type-check abi.go: %v", err)
	}
	out := map[string]int64{}
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if !ok || !limitName.MatchString(name) || c.Val().Kind() != constant.Int {
			continue
		}
		v, exact := constant.Int64Val(c.Val())
		if !exact {
			t.Fatalf("abi.go: %s does not fit an int64", name)
		}
		out[name] = v
	}
	return out
}

// specValue parses a limit as ABI.md writes it: "999", "65,536", "8 KiB",
// "16 MiB".
func specValue(num, unit string) (int64, error) {
	v, err := strconv.ParseInt(strings.ReplaceAll(num, ",", ""), 10, 64)
	switch unit {
	case "KiB":
		v <<= 10
	case "MiB":
		v <<= 20
	}
	return v, err
}

// specLimits reads the limits table of ABI.md's section 1.3.
func specLimits(t *testing.T) map[string]int64 {
	t.Helper()
	row := regexp.MustCompile("^\\| `(\\w+)` \\| ([\\d,]+)(?: (KiB|MiB))? \\|")
	out := map[string]int64{}
	for _, line := range section(t, "### 1.3", "## 2.") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, err := specValue(m[2], m[3])
		if err != nil {
			t.Fatalf("ABI.md limits table: %q: %v", line, err)
		}
		if _, dup := out[m[1]]; dup {
			t.Errorf("ABI.md limits table lists %s twice", m[1])
		}
		out[m[1]] = v
	}
	return out
}

// TestContract_limits checks that ABI.md's limits table lists every limit
// constant of abi.go with its value, and nothing else.
func TestContract_limits(t *testing.T) {
	want, got := goLimits(t), specLimits(t)
	if len(want) == 0 {
		t.Fatal("abi.go defines no limits")
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		v, ok := got[name]
		switch {
		case !ok:
			t.Errorf("abi.go defines %s = %d; ABI.md's limits table (section 1.3) does not list it", name, want[name])
		case v != want[name]:
			t.Errorf("%s: ABI.md says %d, abi.go says %d", name, v, want[name])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[name]; !ok {
			t.Errorf("ABI.md's limits table lists %s, which abi.go does not define", name)
		}
	}
}

// Patterns of a limit stated in ABI.md's text: a value, its unit and an
// optional noun, then the constant ("8 KiB (`MaxLogBytes`)", "1024 RPCs
// (`MaxRPCsPerPlugin`)"), or the constant then the value ("`MaxSQLBytes`
// 64 KiB"). A sized figure is a value with a unit that a limit would have.
var (
	limitAfter  = regexp.MustCompile("(\\d[\\d,]*)(?:\\s+(KiB|MiB))?(?:\\s+[A-Za-z]+)?\\s+\\(`((?:Max|Default)\\w+)`\\)")
	limitBefore = regexp.MustCompile("`((?:Max|Default)\\w+)`\\s+(\\d[\\d,]*)(?:\\s+(KiB|MiB))?")
	limitNamed  = regexp.MustCompile("`((?:Max|Default)\\w+)`")
	sizedFigure = regexp.MustCompile(`(?:^|[\s(])(\d[\d,]*\s+(?:KiB|MiB|bytes|characters|elements|values|parameters|RPCs|routes|headers|crashes))\b`)
)

// TestContract_limitsInText checks every limit that ABI.md's text states
// outside the limits table: each must name its constant, and agree with it.
// A figure such as "64 KiB" or "256 routes" that names no constant fails
// the test, so a limit cannot be documented without being checked.
func TestContract_limitsInText(t *testing.T) {
	limits := goLimits(t)
	var lines []string
	inTable := false
	for _, line := range readLines(t, "ABI.md") {
		if strings.HasPrefix(line, "| Constant | Value |") {
			inTable = true
		}
		if inTable && !strings.HasPrefix(line, "|") {
			inTable = false
		}
		if !inTable {
			lines = append(lines, line)
		}
	}
	text := strings.Join(lines, "\n")
	checked := 0
	var covered [][]int
	check := func(span []int, name, num, unit string) {
		covered = append(covered, span)
		v, err := specValue(num, unit)
		want, ok := limits[name]
		switch {
		case err != nil:
			t.Errorf("ABI.md: %q: %v", text[span[0]:span[1]], err)
		case !ok:
			t.Errorf("ABI.md: %q names %s, which abi.go does not define", text[span[0]:span[1]], name)
		case v != want:
			t.Errorf("ABI.md: %q says %d, abi.go says %s = %d", text[span[0]:span[1]], v, name, want)
		}
		checked++
	}
	for _, m := range limitAfter.FindAllStringSubmatchIndex(text, -1) {
		check(m[:2], text[m[6]:m[7]], text[m[2]:m[3]], sub(text, m, 4))
	}
	for _, m := range limitBefore.FindAllStringSubmatchIndex(text, -1) {
		check(m[:2], text[m[2]:m[3]], text[m[4]:m[5]], sub(text, m, 6))
	}
	for _, m := range limitNamed.FindAllStringSubmatch(text, -1) {
		if _, ok := limits[m[1]]; !ok {
			t.Errorf("ABI.md names %s, which abi.go does not define", m[1])
		}
	}
	for _, m := range sizedFigure.FindAllStringSubmatchIndex(text, -1) {
		in := func(span []int) bool { return span[0] <= m[2] && m[3] <= span[1] }
		if !slices.ContainsFunc(covered, in) {
			t.Errorf("ABI.md states %q without naming its constant, as in \"8 KiB (`MaxLogBytes`)\"", text[m[2]:m[3]])
		}
	}
	if checked == 0 {
		t.Error("ABI.md's text states no limit with its constant")
	}
}

// sub returns submatch i of m in s, or "" when it did not take part.
func sub(s string, m []int, i int) string {
	if m[i] < 0 {
		return ""
	}
	return s[m[i]:m[i+1]]
}
