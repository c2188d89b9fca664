package storage

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestClassify_own checks that classify leaves the package's own errors as
// they are, sentinels found by their type rather than from a list: a
// sentinel that is not in any list is still the package's own.
func TestClassify_own(t *testing.T) {
	unlisted := sentinelError("storage: a sentinel no list names")
	tests := []struct {
		name string
		err  error
	}{
		{"Sentinel", ErrLimit},
		{"WrappedSentinel", fmt.Errorf("query: %w", ErrNotAllowed)},
		{"Unlisted", fmt.Errorf("exec: %w", unlisted)},
		{"SQLError", &SQLError{Msg: "near x: syntax error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.err); got != tt.err {
				t.Fatalf("classify(%v) = %#v, want it unchanged", tt.err, got)
			}
		})
	}
	t.Run("Foreign", func(t *testing.T) {
		var se *SQLError
		if got := classify(errors.New("driver: bad")); !errors.As(got, &se) {
			t.Fatalf("classify(foreign) = %#v, want an *SQLError", got)
		}
	})
}

// TestSentinels_type checks that every package-level Err variable of the
// package is built as a sentinelError, so that classify knows it as the
// package's own (one built with errors.New would become an SQL error).
func TestSentinels_type(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "Err") {
						continue
					}
					found++
					if i >= len(vs.Values) || !isSentinelCall(vs.Values[i]) {
						t.Errorf("%s: %s is not built with sentinelError(...)", fset.Position(id.Pos()), id.Name)
					}
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("no Err variables found")
	}
}

func isSentinelCall(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := call.Fun.(*ast.Ident)
	return ok && id.Name == "sentinelError"
}
