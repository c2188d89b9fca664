package main

import (
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/warden-rpc/warden/sdk"
	"github.com/warden-rpc/warden/storage"
)

// projectTemplates are the files `warden new` writes: newproject/<lang>/
// for each language, and the manifest and the deploy section they share.
// A file's name drops its .tmpl suffix and has NAME replaced by the
// plugin's name.
//
//go:embed newproject
var projectTemplates embed.FS

// sdkDir is where a project keeps its copy of the SDK.
const sdkDir = "warden-sdk"

// project is what the templates see.
type project struct {
	Name    string // the plugin's name: its .wasm, its database, its manifest
	RPC     string // the RPC it registers
	Route   string // the HTTP route it registers
	Crate   string // Rust: the crate's name
	Lib     string // Rust: the library file's name
	Module  string // Go: the module path
	Package string // AssemblyScript: the npm package's name
}

// newProject derives the names a project uses from the plugin's name.
func newProject(name string) project {
	lower := strings.ToLower(name)
	crate := strings.NewReplacer(".", "_", "-", "_").Replace(lower)
	switch {
	case crate[0] >= '0' && crate[0] <= '9', crate == "test", crate == "std", crate == "core", crate == "warden":
		crate = "plugin_" + crate
	}
	return project{
		Name:    name,
		RPC:     lower + "_hello",
		Route:   "/hello/" + name,
		Crate:   crate,
		Lib:     crate,
		Module:  name,
		Package: "warden-plugin-" + lower,
	}
}

// runNew is `warden new --lang LANG NAME [DIR]`: it writes a plugin project
// for NAME into DIR (default NAME), which must not exist or be empty.
//
// # Errors
//
// A bad flag, language or name, a non-empty DIR, or a failed write.
func runNew(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("warden new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lang := fs.String("lang", "", "the plugin's language: "+strings.Join(sdk.Languages, ", "))
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: warden new --lang rust|assemblyscript|go|c NAME [DIR]")
		fs.PrintDefaults()
	}
	var pos []string
	for { // flags may come before, between or after NAME and DIR
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) < 1 || len(pos) > 2 {
		fs.Usage()
		return errors.New("new: want NAME and an optional DIR")
	}
	if !knownLanguage(*lang) {
		return fmt.Errorf("new: --lang %q: want one of %s", *lang, strings.Join(sdk.Languages, ", "))
	}
	name, dir := pos[0], pos[0]
	if len(pos) == 2 {
		dir = pos[1]
	}
	if err := storage.CheckPluginName(name); err != nil {
		return fmt.Errorf("new: plugin name: %w", err)
	}
	files, err := projectFiles(*lang, newProject(name))
	if err != nil {
		return fmt.Errorf("new: %w", err)
	}
	if err := writeProject(dir, files); err != nil {
		return fmt.Errorf("new: %w", err)
	}
	fmt.Fprintf(stdout, "wrote plugin %s (%s) in %s; build, test and deploy: see %s\n", name, *lang, dir, filepath.Join(dir, "README.md"))
	return nil
}

func knownLanguage(lang string) bool {
	for _, l := range sdk.Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// projectFiles renders lang's templates and adds its SDK: the files of
// the project, by their slash-separated path.
func projectFiles(lang string, p project) (map[string][]byte, error) {
	out := map[string][]byte{}
	shared, err := template.ParseFS(projectTemplates, "newproject/deploy.tmpl")
	if err != nil {
		return nil, err
	}
	render := func(src, dst string) error {
		text, err := projectTemplates.ReadFile(src)
		if err != nil {
			return err
		}
		t, err := template.Must(shared.Clone()).Option("missingkey=error").Parse(string(text))
		if err != nil {
			return fmt.Errorf("template %s: %w", src, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, p); err != nil {
			return fmt.Errorf("template %s: %w", src, err)
		}
		out[strings.ReplaceAll(strings.TrimSuffix(dst, ".tmpl"), "NAME", p.Name)] = b.Bytes()
		return nil
	}
	if err := render("newproject/NAME.toml.tmpl", "NAME.toml"); err != nil {
		return nil, err
	}
	root := "newproject/" + lang
	err = fs.WalkDir(projectTemplates, root, func(f string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return render(f, strings.TrimPrefix(f, root+"/"))
	})
	if err != nil {
		return nil, err
	}
	return out, addSDK(out, lang)
}

// addSDK adds the SDK lang's project uses under warden-sdk/: for C,
// warden.h and the fake host its tests run on.
func addSDK(out map[string][]byte, lang string) error {
	if lang == "c" {
		c, err := sdk.Files("c")
		if err != nil {
			return err
		}
		as, err := sdk.Files("assemblyscript")
		if err != nil {
			return err
		}
		out[sdkDir+"/warden.h"], out[sdkDir+"/fakehost.mjs"] = c["warden.h"], as["testing/fakehost.mjs"]
		return nil
	}
	files, err := sdk.Files(lang)
	if err != nil {
		return err
	}
	for n, b := range files {
		out[path.Join(sdkDir, n)] = b
	}
	return nil
}

// writeProject writes files into dir, which it creates; an existing dir
// must be empty, so that nothing of the user's is overwritten. Shell
// scripts are executable.
func writeProject(dir string, files map[string][]byte) error {
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return fmt.Errorf("%s is not empty: choose a new or empty directory", dir)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return err
	}
	for n, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(n, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, b, mode); err != nil {
			return err
		}
	}
	return nil
}
