package interrupt

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

// committedModules returns every .wasm file in the repository: the
// plugins, the examples, the conformance plugins of the four SDKs and the
// test fixtures.
func committedModules(t testing.TB) map[string][]byte {
	t.Helper()
	mods := map[string][]byte{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "target") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".wasm") {
			return nil
		}
		b, err := os.ReadFile(path)
		mods[filepath.ToSlash(path)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) < 40 {
		t.Fatalf("found %d .wasm files, want the repository's 40 and more", len(mods))
	}
	return mods
}

// refusedModules are the committed attacks on the rewriter, with the error
// each must get.
var refusedModules = map[string]error{
	"../host/testdata/interrupt/reserved.wasm": ErrReserved,
}

// TestInstrument_committedModules rewrites every committed module: each
// that wazero compiles must still compile once instrumented, pass
// wasm-validate when wabt is installed, and be rewritten the same way
// twice. The Go, Rust, C and AssemblyScript plugins then run rewritten in
// the host's and the conformance suite's tests.
func TestInstrument_committedModules(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	validate, _ := exec.LookPath("wasm-validate")
	if validate == "" {
		t.Log("wasm-validate (wabt) is not installed: checking with wazero only")
	}
	for path, wasm := range committedModules(t) {
		t.Run(path, func(t *testing.T) {
			if c, err := rt.CompileModule(ctx, wasm); err != nil {
				t.Skipf("wazero refuses the module as committed: %v", err)
			} else {
				_ = c.Close(ctx)
			}
			m, err := Read(wasm)
			var out []byte
			if err == nil {
				out, err = m.Instrument()
				t.Logf("heaviest function: %d slots", m.maxWeight)
			}
			if want := refusedModules[path]; want != nil || err != nil {
				if !errors.Is(err, want) {
					t.Fatalf("Instrument: %v, want %v", err, want)
				}
				return
			}
			again, _ := Instrument(wasm)
			if !bytes.Equal(out, again) {
				t.Fatal("two rewrites of the same module differ")
			}
			c, err := rt.CompileModule(ctx, out)
			if err != nil {
				t.Fatalf("compile the instrumented module: %v", err)
			}
			_ = c.Close(ctx)
			if validate != "" {
				f := filepath.Join(t.TempDir(), "out.wasm")
				if err := os.WriteFile(f, out, 0o644); err != nil {
					t.Fatal(err)
				}
				if b, err := exec.Command(validate, "--enable-tail-call", f).CombinedOutput(); err != nil {
					t.Fatalf("wasm-validate: %v\n%s", err, b)
				}
			}
		})
	}
}
