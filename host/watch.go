package host

import (
	"context"
	"errors"
	"maps"
	"os"
	"time"
)

// reloadSettled is Reload for the watcher: the files in unsettled (plugin
// files and manifests, by path) are still changing and are left out: a
// serving plugin whose file or manifest is among them keeps serving as it
// is, and a new one waits.
func (h *Host) reloadSettled(unsettled map[string]bool) (*ReloadResult, error) {
	h.scanMu.Lock()
	defer h.scanMu.Unlock()
	return h.reloadExcept(unsettled)
}

// settledOnly returns files and failed without the plugins whose file or
// manifest is in unsettled, but for serving ones, kept as they serve (a
// file with the serving version's key). The caller holds reloadMu.
func (h *Host) settledOnly(files []snapshotFile, failed []LoadError, unsettled map[string]bool) ([]snapshotFile, []LoadError) {
	reg := h.reg.Load()
	dir := h.cfg.PluginDir
	still := func(path string) bool {
		return unsettled[path] || unsettled[manifestPath(dir, path)] || unsettled[subfolderManifestPath(dir, path)]
	}
	var keptFiles []snapshotFile
	for _, f := range files {
		if still(f.path) {
			prev := reg.pluginAt(f.path)
			if prev == nil {
				continue
			}
			f.key = prev.key // unchanged, for prepare
		}
		keptFiles = append(keptFiles, f)
	}
	var keptFailed []LoadError
	for _, le := range failed {
		if !still(le.Path) || reg.pluginAt(le.Path) != nil {
			keptFailed = append(keptFailed, le)
		}
	}
	return keptFiles, keptFailed
}

// fileState is what the watcher compares: size and modification time.
type fileState struct {
	size int64
	mod  time.Time
}

// dirState returns the state of every plugin file in dir, of their
// manifests (at the top of dir, see manifestPath), and of a file in a
// plugin file's subfolder that would be its manifest there
// (subfolderManifestPath): its coming or going fails or loads the plugin
// (checkNoSubfolderManifest).
func dirState(dir string) map[string]fileState {
	paths, _ := pluginFiles(dir) // an unreadable directory looks empty: nothing changes
	st := make(map[string]fileState, len(paths))
	for _, p := range paths {
		for _, path := range []string{p, manifestPath(dir, p), subfolderManifestPath(dir, p)} {
			if path == "" {
				continue
			}
			if fi, err := os.Stat(path); err == nil { // Stat never opens the file: a FIFO cannot hang it
				st[path] = fileState{fi.Size(), fi.ModTime()}
			}
		}
	}
	return st
}

// changedFiles returns the paths whose state differs between a and b, a path
// in one only included.
func changedFiles(a, b map[string]fileState) map[string]bool {
	out := map[string]bool{}
	for k, v := range a {
		if w, ok := b[k]; !ok || !v.mod.Equal(w.mod) || v.size != w.size {
			out[k] = true
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out[k] = true
		}
	}
	return out
}

// Watch polls the plugin directory every interval until ctx is done, and
// reloads once a change has settled: the file's size and modification time
// were the same at two polls in a row. Each file settles on its own: a
// file still changing is left out of the reload (its serving version, if
// any, keeps serving), so it is not loaded while being written, and one
// that never stops changing (a symlink to a growing log) holds up no other
// file's change. The safe way to deploy is still to write a temporary name
// and rename it to *.wasm. In cluster mode (Config.Store) it returns at
// once: the folder is not read, and the store's watcher calls Reload
// instead.
func (h *Host) Watch(ctx context.Context, interval time.Duration) {
	if h.cfg.Store != nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	// Nothing counts as applied at first, so the first settled poll reloads;
	// that is a silent no-op (hashes only) when nothing changed since New,
	// and it catches a change made between New and Watch.
	applied := map[string]fileState{}
	prev := dirState(h.cfg.PluginDir)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := dirState(h.cfg.PluginDir)
		unsettled := changedFiles(cur, prev)
		prev = cur
		due := false
		for path := range changedFiles(cur, applied) {
			due = due || !unsettled[path]
		}
		if !due {
			continue
		}
		if _, err := h.reloadSettled(unsettled); err != nil && !errors.Is(err, errHostClosed) {
			h.log.Error().Err(err).Msg("reload")
		}
		// What was applied: cur, but for the unsettled files, which count
		// as changed again once they settle.
		next := maps.Clone(cur)
		for path := range unsettled {
			if st, ok := applied[path]; ok {
				next[path] = st
			} else {
				delete(next, path)
			}
		}
		applied = next
	}
}
