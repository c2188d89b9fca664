// Package sdk carries the plugin SDKs inside the warden binary, so that
// `warden new` writes a project that builds with the binary and the
// language's toolchain alone, offline.
//
// The Rust, C and AssemblyScript SDKs are embedded as they are in this
// directory. The Go SDK is a module of its own (sdk/go/go.mod), which
// go:embed cannot reach, so it is embedded as go.txtar, a text archive of
// its files that TestGoArchive keeps equal to sdk/go (regenerate it with
// `go test ./sdk -run TestGoArchive -update`).
package sdk

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

//go:embed rust/Cargo.toml rust/README.md rust/src
//go:embed c/warden.h c/README.md
//go:embed assemblyscript/package.json assemblyscript/asconfig.json assemblyscript/index.ts
//go:embed assemblyscript/README.md assemblyscript/assembly assemblyscript/testing
//go:embed go.txtar
var embedded embed.FS

// Languages are the languages whose SDK Files returns.
var Languages = []string{"rust", "assemblyscript", "go", "c"}

// Files returns the SDK of lang ("rust", "assemblyscript", "go" or "c"):
// each file's path inside the SDK's directory, and its content.
//
// # Errors
//
// An unknown language.
func Files(lang string) (map[string][]byte, error) {
	if lang == "go" {
		a, err := embedded.ReadFile("go.txtar")
		if err != nil {
			return nil, err
		}
		return parseArchive(a)
	}
	if _, err := fs.Stat(embedded, lang); err != nil {
		return nil, fmt.Errorf("sdk %q: want one of %s", lang, strings.Join(Languages, ", "))
	}
	out := map[string][]byte{}
	err := fs.WalkDir(embedded, lang, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		out[strings.TrimPrefix(p, lang+"/")] = b
		return nil
	})
	return out, err
}

// archiveMarker starts and ends the header line of each file in go.txtar,
// as in golang.org/x/tools/txtar: "-- path --".
const archiveMarker = "-- "

// formatArchive writes files (path to content) as a text archive, in the
// order of names. Every content must end in a newline.
func formatArchive(names []string, files map[string][]byte) []byte {
	var b strings.Builder
	b.WriteString("The Go SDK (sdk/go), embedded by package sdk; generated: see embed.go.\n")
	for _, n := range names {
		fmt.Fprintf(&b, "%s%s --\n", archiveMarker, n)
		b.Write(files[n])
	}
	return []byte(b.String())
}

// parseArchive reads a text archive that formatArchive wrote.
func parseArchive(a []byte) (map[string][]byte, error) {
	out := map[string][]byte{}
	var name string
	var body strings.Builder
	flush := func() {
		if name != "" {
			out[name] = []byte(body.String())
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(string(a), "\n") {
		h := strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(h, archiveMarker) && strings.HasSuffix(h, " --") && len(h) > 6 {
			flush()
			name = path.Clean(h[len(archiveMarker) : len(h)-3])
			if !fs.ValidPath(name) {
				return nil, fmt.Errorf("sdk archive: bad path %q", name)
			}
			continue
		}
		if name != "" {
			body.WriteString(line)
		}
	}
	flush()
	return out, nil
}
