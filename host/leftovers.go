package host

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/warden-rpc/warden/manifest"
	"github.com/warden-rpc/warden/storage"
)

// removeLeftovers removes from the plugin folder what a deploy that
// stopped part way (the server killed between its steps, see
// replaceTogether) left there: the files of the shapes stage and
// moveAside make (leftover), at the places a deploy writes, the folder
// itself and its subfolders named after their plugin (checkPlace). They
// are never loaded, but each crash would leave more. A file moved aside
// is removed only once a module is back in its place: without one it is
// the old module's only copy, and is kept, with a warning naming it. A
// manifest's leftovers sit at the top of the folder (manifestPath): a
// staged one goes once a module is back at either of the name's places,
// and one moved aside only once a manifest is back in its place, since
// until then it holds the operator's grants alone, and the plugin is
// refused (checkNoAsideManifest). (Those of a manifest in a subfolder,
// from before manifests moved to the top, go once the module beside them
// is back.)
// Failures are logged; the start goes on.
//
// # Notes
//
// It runs at a start only, before the first load and without Store (in
// cluster mode nothing writes the folder): no deploy of this host can be
// running then, so a file of those shapes is a crash's, whatever its age.
// An age would not tell either, since a file moved aside keeps its
// modification time, however old. It only removes regular files: a link,
// FIFO or folder of such a name is left, and a link is never followed.
// It reads the folder through an os.Root, so that neither a linked
// subfolder nor one swapped for a link while it works leads it outside.
func (h *Host) removeLeftovers() {
	root, err := os.OpenRoot(h.cfg.PluginDir)
	if err != nil {
		return // loadDir reports the folder
	}
	defer root.Close()
	folders := []string{"."}
	for _, e := range readRootDir(root, ".") {
		if e.Type().IsDir() && storage.CheckPluginName(e.Name()) == nil {
			folders = append(folders, e.Name())
		}
	}
	for _, folder := range folders {
		for _, e := range readRootDir(root, folder) {
			name, aside, ofManifest, ok := leftover(e.Name())
			if !ok || (folder != "." && folder != name) {
				continue
			}
			places := []string{filepath.Join(folder, name+".wasm")}
			switch {
			case folder == "." && ofManifest && aside:
				// The operator's grants: kept until a manifest is in
				// place (checkNoAsideManifest refuses the plugin till then).
				places = []string{name + manifest.Ext}
			case folder == "." && ofManifest:
				places = append(places, filepath.Join(name, name+".wasm"))
			}
			h.removeLeftover(root, filepath.Join(folder, e.Name()), places, aside)
		}
	}
}

// removeLeftover removes the leftover at path in root when it is a
// regular file, and, if it was moved aside, once one of places (where
// the file it replaced belongs: a module's places, or for a manifest at
// the top its own) has a file.
func (h *Host) removeLeftover(root *os.Root, path string, places []string, aside bool) {
	full := filepath.Join(h.cfg.PluginDir, path)
	if fi, err := root.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		return
	}
	back := slices.ContainsFunc(places, func(m string) bool {
		_, err := root.Lstat(m)
		return !errors.Is(err, fs.ErrNotExist)
	})
	if aside && !back {
		h.log.Warn().Str("path", full).Msg("a deploy stopped part way and left the plugin's old file moved aside, its only copy, with nothing in its place: kept; rename it back, or remove it")
		return
	}
	if err := root.Remove(path); err != nil {
		h.log.Warn().Err(err).Str("path", full).Msg("remove what a deploy left when it stopped part way")
		return
	}
	h.log.Info().Str("path", full).Msg("removed what a deploy left when it stopped part way")
}

// readRootDir lists the folder dir of root; nothing when it cannot.
func readRootDir(root *os.Root, dir string) []fs.DirEntry {
	f, err := root.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	entries, _ := f.ReadDir(-1)
	return entries
}

// leftover reports whether file is named as stage or moveAside name what
// they make beside a plugin's module or manifest:
// .NAME.wasm.R.tmp or .NAME.toml.R.old, NAME a plugin name, R a number
// as createFresh writes it. It returns NAME, whether the file was moved
// aside, and whether it is a manifest's.
func leftover(file string) (name string, aside, ofManifest, ok bool) {
	rest, ok := strings.CutPrefix(file, ".")
	if !ok {
		return "", false, false, false
	}
	if r, ok := strings.CutSuffix(rest, asideSuffix); ok {
		rest, aside = r, true
	} else if rest, ok = strings.CutSuffix(rest, stagedSuffix); !ok {
		return "", false, false, false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 || !freshNumber(rest[i+1:]) {
		return "", false, false, false
	}
	for _, ext := range []string{".wasm", manifest.Ext} {
		if name, ok := strings.CutSuffix(rest[:i], ext); ok && storage.CheckPluginName(name) == nil {
			return name, aside, ext == manifest.Ext, true
		}
	}
	return "", false, false, false
}

// freshNumber reports whether s is a number as createFresh writes it:
// a uint64 in base freshBase, without leading zeros.
func freshNumber(s string) bool {
	n, err := strconv.ParseUint(s, freshBase, 64)
	return err == nil && strconv.FormatUint(n, freshBase) == s
}
