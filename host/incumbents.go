package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxServingFileBytes bounds Config.ServingFile: some 20,000 paths.
const maxServingFileBytes = 1 << 20

// servingRecord is what Config.ServingFile holds.
type servingRecord struct {
	// Serving are the incumbents' paths, relative to the plugin folder.
	Serving []string `json:"serving"`
	// Modules are, by the same paths, the SHA-256 (hex) of the module that
	// served from each; none for a record written before they were kept.
	Modules map[string]string `json:"modules,omitempty"`
}

// incumbents are the plugin files that come first in a contest for a
// name, RPC id or route among files none of which serves (see contested):
// the files the plugins served from when Config.ServingFile was last
// written, which a restart reads back, and of those the ones that still
// exist while they fail to load, which keep their name. The serving
// plugins come first anyway; incumbents carry that across a restart, so
// that a file planted beside a serving plugin, refused at a hot reload,
// is refused at the next start too rather than take the plugin down with
// it. Nil when Config.ServingFile is empty, and in cluster mode.
type incumbents struct {
	file  string
	paths map[string]bool // full paths, as the plugin files' paths
	// modules are, by full path, the SHA-256 of the module that served
	// there (servingRecord.Modules).
	modules map[string]string
	// saved is whether file holds paths.
	saved bool
}

// openIncumbents reads the incumbents recorded in cfg.ServingFile. A file
// that is missing, cannot be read or is malformed records none: then
// every claimant of a contest is refused, as with no record at all. It
// returns nil when there is no record to keep.
func (h *Host) openIncumbents() *incumbents {
	if h.cfg.ServingFile == "" || h.cfg.Store != nil {
		return nil
	}
	in := &incumbents{file: h.cfg.ServingFile, paths: map[string]bool{}, modules: map[string]string{}}
	b, err := readPluginFile(in.file, maxServingFileBytes) // a regular file, bounded: never a FIFO's wait
	if errors.Is(err, fs.ErrNotExist) {
		return in
	}
	var rec servingRecord
	if err == nil {
		err = json.Unmarshal(b, &rec)
	}
	if err != nil {
		h.log.Warn().Err(err).Str("path", in.file).Msg("the record of the plugin files that served cannot be read: a file contesting a plugin at this start refuses both")
		return in
	}
	for _, rel := range rec.Serving {
		// A file that served before the layout rule (checkPlace) from a
		// place that is no plugin's is refused now: it holds no name.
		path := filepath.Join(h.cfg.PluginDir, rel)
		if filepath.IsLocal(rel) && checkPlace(h.cfg.PluginDir, path) == nil {
			in.paths[path] = true
			if sum := rec.Modules[rel]; sum != "" {
				in.modules[path] = sum
			}
		}
	}
	in.saved = true
	return in
}

// has reports whether the file at path is an incumbent.
func (in *incumbents) has(path string) bool {
	return in != nil && in.paths[path]
}

// unchanged reports whether p, loaded from an incumbent's path, is the
// module that served there, by its whole hash. A file rewritten since
// (its plugin's next version, whoever wrote it) is an incumbent by its
// path only: see contested.
func (in *incumbents) unchanged(p *Plugin) bool {
	sum, _, _ := strings.Cut(p.key, "+")
	return in != nil && in.modules[p.Path] != "" && in.modules[p.Path] == sum
}

// held returns, by plugin name, the incumbents that are still there but
// neither serve nor loaded now (up): their file fails to load, or is
// still being written. They keep their name: a newcomer of the name is
// refused, as it would be while the file's version served.
func (in *incumbents) held(serving, up []*Plugin) map[string]string {
	if in == nil {
		return nil
	}
	out := map[string]string{}
	for path := range in.paths {
		if slices.ContainsFunc(serving, atPath(path)) || slices.ContainsFunc(up, atPath(path)) {
			continue
		}
		if _, err := os.Lstat(path); err == nil {
			out[pluginName(path)] = path
		}
	}
	return out
}

// atPath returns a test of a plugin (nil: false) for being loaded from
// path.
func atPath(path string) func(*Plugin) bool {
	return func(p *Plugin) bool { return p != nil && p.Path == path }
}

// recordServing works the incumbents out after a commit, the serving
// plugins' files and the incumbents still there (see held), and writes
// them to Config.ServingFile when they changed, or when the last write
// failed. The write is atomic, through a new file of a fresh name
// (writeAtomic): a link planted under the record's name is replaced, never
// written through. A failed write is logged; the incumbents in memory are
// kept. The caller holds reloadMu, and scanMu but at New's first load.
func (h *Host) recordServing() {
	in := h.incumbents
	if in == nil {
		return
	}
	serving := h.reg.Load().plugins
	next, modules := map[string]bool{}, map[string]string{}
	for _, p := range serving {
		next[p.Path] = true
		modules[p.Path], _, _ = strings.Cut(p.key, "+")
	}
	for _, path := range in.held(serving, nil) {
		next[path] = true
		if sum := in.modules[path]; sum != "" {
			modules[path] = sum
		}
	}
	if in.saved && maps.Equal(next, in.paths) && maps.Equal(modules, in.modules) {
		return
	}
	in.paths, in.modules = next, modules
	err := h.writeIncumbents(in)
	in.saved = err == nil
	if err != nil {
		h.log.Warn().Err(err).Str("path", in.file).Msg("record the plugin files that serve")
	}
}

// writeIncumbents writes in's paths to its file, relative to the plugin
// folder. A path that is not UTF-8 is left out (JSON would change it):
// its file then has no precedence after a restart.
func (h *Host) writeIncumbents(in *incumbents) error {
	rec := servingRecord{Serving: []string{}, Modules: map[string]string{}}
	for path := range in.paths {
		rel, err := filepath.Rel(h.cfg.PluginDir, path)
		if err == nil && filepath.IsLocal(rel) && utf8.ValidString(rel) {
			rec.Serving = append(rec.Serving, rel)
			if sum := in.modules[path]; sum != "" {
				rec.Modules[rel] = sum
			}
		}
	}
	slices.Sort(rec.Serving)
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := h.writeAtomic(in.file, append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", in.file, err)
	}
	return nil
}
