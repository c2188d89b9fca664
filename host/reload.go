package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// LoadError is a plugin file that failed to load, with why.
type LoadError struct {
	Plugin string
	Path   string
	Err    error
	At     time.Time
}

// ReloadResult says what a reload changed.
type ReloadResult struct {
	// Loaded are the plugins whose new version now serves.
	Loaded []string
	// Removed are the plugins whose file is gone.
	Removed []string
	// Failed are the plugins whose new version was refused; the old
	// version, if any, keeps serving.
	Failed []LoadError
}

// snapshotFile is one plugin file as read for a load.
type snapshotFile struct {
	path, name, version string
	wasm                []byte
}

// readPluginFiles reads every plugin file in dir. A file that cannot be
// read is reported in failed and skipped.
func readPluginFiles(dir string) (files []snapshotFile, failed []LoadError, err error) {
	paths, err := pluginFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, path := range paths {
		wasm, err := os.ReadFile(path)
		if err != nil {
			failed = append(failed, LoadError{Plugin: pluginName(path), Path: path, Err: err, At: time.Now()})
			continue
		}
		files = append(files, snapshotFile{path: path, name: pluginName(path), version: version(wasm), wasm: wasm})
	}
	return files, failed, nil
}

// Reload rescans the plugin directory and swaps in what changed: a new or
// changed file is compiled, validated and initialised aside, then the
// registry is swapped atomically. Calls in flight finish on the version they
// started on; retired versions are drained and closed in the background. A
// file whose content is unchanged is a no-op. A new version that fails to
// load or conflicts is refused and logged, and the old version keeps
// serving. A removed file's plugin stops serving.
//
// # Errors
//
// It fails only when the directory cannot be listed; per-plugin failures
// are in the result.
func (h *Host) Reload(ctx context.Context) (*ReloadResult, error) {
	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	files, failed, err := readPluginFiles(h.cfg.PluginDir)
	if err != nil {
		return nil, err
	}
	old := h.reg.Load()
	res := &ReloadResult{Failed: failed}
	b := newRegistryBuilder(old.gen+1, h.cfg.CheckRoutes)
	seen := map[string]bool{}
	for _, f := range files {
		seen[f.name] = true
		prev := old.plugin(f.name)
		if prev != nil && prev.Version == f.version {
			if err := b.add(prev); err != nil { // cannot happen: it served with the others before
				res.Failed = append(res.Failed, LoadError{f.name, f.path, err, time.Now()})
			}
			continue
		}
		if err := h.addNewVersion(ctx, b, f, prev); err != nil {
			res.Failed = append(res.Failed, LoadError{f.name, f.path, err, time.Now()})
			continue
		}
		res.Loaded = append(res.Loaded, f.name)
	}
	for _, p := range old.plugins {
		if !seen[p.Name] {
			res.Removed = append(res.Removed, p.Name)
		}
	}
	h.swap(ctx, b.reg, res)
	return res, nil
}

// addNewVersion loads f and adds it to b. When it fails, the previous
// version (if any) is added instead, so that it keeps serving.
func (h *Host) addNewVersion(ctx context.Context, b *registryBuilder, f snapshotFile, prev *Plugin) error {
	p, err := h.loadPlugin(ctx, f.path, f.wasm)
	if err == nil {
		if err = b.add(p); err != nil {
			p.close(ctx)
		}
	}
	if err != nil && prev != nil {
		if perr := b.add(prev); perr != nil {
			err = errors.Join(err, fmt.Errorf("previous version: %w", perr))
		}
	}
	return err
}

// swap installs reg, records the result, and retires the plugins that are
// no longer in it.
func (h *Host) swap(ctx context.Context, reg *registry, res *ReloadResult) {
	old := h.reg.Swap(reg)
	h.recordFailures(res.Failed)
	for _, p := range old.plugins {
		if reg.plugin(p.Name) != p {
			h.retiring.Add(1)
			go func() {
				defer h.retiring.Done()
				p.retire(context.WithoutCancel(ctx), h.cfg.CallTimeout+time.Second)
			}()
		}
	}
	ev := h.log.Info()
	if len(res.Failed) > 0 {
		ev = h.log.Error()
		for _, f := range res.Failed {
			h.log.Error().Err(f.Err).Str("plugin", f.Plugin).Str("path", f.Path).Msg("plugin not loaded; the previous version keeps serving")
		}
	}
	ev.Strs("loaded", res.Loaded).Strs("removed", res.Removed).Int("failed", len(res.Failed)).
		Uint64("generation", reg.gen).Msg("plugins reloaded")
}

func (h *Host) recordFailures(failed []LoadError) {
	h.errMu.Lock()
	defer h.errMu.Unlock()
	for _, f := range failed {
		h.lastErr[f.Plugin] = f
	}
}

// LoadErrors returns the last load error of every plugin that had one, by
// plugin name.
func (h *Host) LoadErrors() []LoadError {
	h.errMu.Lock()
	defer h.errMu.Unlock()
	out := make([]LoadError, 0, len(h.lastErr))
	for _, name := range sortedKeys(h.lastErr) {
		out = append(out, h.lastErr[name])
	}
	return out
}

// plugin returns the plugin named name, or nil.
func (r *registry) plugin(name string) *Plugin {
	for _, p := range r.plugins {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// fileState is what the watcher compares: size and modification time.
type fileState struct {
	size int64
	mod  time.Time
}

// dirState returns the state of every plugin file in dir.
func dirState(dir string) map[string]fileState {
	paths, _ := pluginFiles(dir) // an unreadable directory looks empty: nothing changes
	st := make(map[string]fileState, len(paths))
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			st[p] = fileState{fi.Size(), fi.ModTime()}
		}
	}
	return st
}

func sameState(a, b map[string]fileState) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !v.mod.Equal(w.mod) || v.size != w.size {
			return false
		}
	}
	return true
}

// Watch polls the plugin directory every interval until ctx is done, and
// reloads once a change has settled: the files' sizes and modification
// times were the same at two polls in a row. A file still being written is
// therefore not loaded; the safe way to deploy is still to write a
// temporary name and rename it to *.wasm.
func (h *Host) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	// Nothing counts as applied at first, so the first settled poll reloads;
	// that is a cheap no-op (hashes only) when nothing changed since New, and
	// it catches a change made between New and Watch.
	applied := map[string]fileState{}
	prev := dirState(h.cfg.PluginDir)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := dirState(h.cfg.PluginDir)
		settled := sameState(cur, prev)
		prev = cur
		if !settled || sameState(cur, applied) {
			continue
		}
		if _, err := h.Reload(ctx); err != nil {
			h.log.Error().Err(err).Msg("reload")
		}
		applied = cur
	}
}
