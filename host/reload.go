package host

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/warden-rpc/warden/abi"
)

// LoadError is a plugin file that fails to load now, with why.
type LoadError struct {
	// Plugin is the failing file's plugin name, Path the file.
	Plugin string
	Path   string
	// Version is the failing file's version; empty when it could not be
	// read.
	Version string
	// RPCs are the RPC ids the failing version registered, when its init
	// got that far (it conflicts with a serving plugin, for one).
	RPCs []string
	Err  error
	// At is when the file first failed this way.
	At time.Time
}

// ReloadResult says what a reload changed.
type ReloadResult struct {
	// Loaded are the plugins whose new version now serves.
	Loaded []string
	// Removed are the plugins whose file is gone.
	Removed []string
	// Failed are the files that failed to load or were refused: each
	// names the failing file, never a plugin that keeps serving. A failed
	// new version leaves the old version, if any, serving.
	Failed []LoadError
}

// loadErrors is the current set of failing files, replaced whole by each
// reload.
type loadErrors struct {
	// list is sorted by path.
	list []LoadError
	// rpcs maps an RPC id that a failing version registered to its plugin.
	rpcs map[string]string
}

// ErrPluginNotLoaded is the cause of a call to an RPC that no serving
// plugin registers but a plugin that fails to load does.
var ErrPluginNotLoaded = errors.New("the plugin that registers it failed to load")

// Reload rescans the plugin directory and swaps in what changed: a new or
// changed file is compiled, validated and initialised aside, then the
// registry is swapped atomically. Calls in flight finish on the version they
// started on; retired versions are drained and closed in the background. A
// file whose content is unchanged is a no-op.
//
// Serving plugins come first: a changed version that conflicts with
// another serving plugin, or a new file that conflicts with any, is
// refused and named in the result, and what served keeps serving, whatever
// the files are named. A version that fails to load is refused too, and
// the old version keeps serving. A removed file's plugin stops serving.
//
// The load does not depend on ctx: a caller that goes away cannot cancel
// a plugin's init halfway. Close cancels it.
//
// # Errors
//
// It fails only when the directory cannot be listed, or the host is
// closed; per-plugin failures are in the result.
func (h *Host) Reload(_ context.Context) (*ReloadResult, error) {
	h.scanMu.Lock()
	defer h.scanMu.Unlock()
	return h.reload()
}

// reload reads the plugin directory and applies it; the caller holds
// scanMu.
func (h *Host) reload() (*ReloadResult, error) { return h.reloadExcept(nil) }

// reloadExcept is reload, leaving out the files in unsettled (see
// reloadSettled); the caller holds scanMu.
func (h *Host) reloadExcept(unsettled map[string]bool) (*ReloadResult, error) {
	files, failed, err := h.readFiles()
	if err != nil {
		return nil, err
	}
	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	if h.closed {
		return nil, errHostClosed
	}
	if len(unsettled) > 0 {
		files, failed = h.settledOnly(files, failed, unsettled)
	}
	return h.apply(files, failed), nil
}

// errHostClosed is Reload's error after Close.
var errHostClosed = errors.New("host is closed")

// loadFirst loads the plugin directory, once rid of what a deploy that
// stopped part way left (removeLeftovers), or the store in cluster mode
// (loadStore), into the empty registry New made.
//
// # Errors
//
// It fails when the directory or the store cannot be read, or, with
// StrictLoad, listing every file that failed to load.
func (h *Host) loadFirst() error {
	var res *ReloadResult
	var err error
	if h.cfg.Store != nil {
		res, err = h.loadStore()
	} else {
		h.removeLeftovers()
		res, err = h.loadDir()
	}
	if err != nil {
		return err
	}
	if !h.cfg.StrictLoad || len(res.Failed) == 0 {
		return nil
	}
	errs := make([]error, len(res.Failed))
	for i, f := range res.Failed {
		errs[i] = fmt.Errorf("%s: %w", f.Path, f.Err)
	}
	return fmt.Errorf("%d plugin files failed to load: %w", len(errs), errors.Join(errs...))
}

// loadDir loads the plugin directory.
func (h *Host) loadDir() (*ReloadResult, error) {
	files, failed, err := readPluginFiles(h.cfg.PluginDir, h.cfg.MaxPluginBytes)
	if err != nil {
		return nil, err
	}
	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	return h.apply(files, failed), nil
}

// apply builds the next registry from files, swaps it in when anything
// changed, and records and logs the failures. failed are the files that
// could not be read. The caller holds reloadMu.
func (h *Host) apply(files []snapshotFile, failed []LoadError) *ReloadResult {
	defer h.pruneCache()
	b, res := h.prepare(files, failed)
	h.commit(b, res)
	return res
}

// pruneCache removes the compile cache's files of the versions no longer
// loaded (cacheFiles.prune). The caller holds reloadMu, and has committed
// or discarded what it loaded.
func (h *Host) pruneCache() {
	if h.cacheFiles == nil {
		return
	}
	plugins := h.reg.Load().plugins
	live := make([]string, len(plugins))
	for i, p := range plugins {
		live[i] = p.cacheKey
	}
	h.cacheFiles.prune(live)
}

// prepare loads what changed in files aside and returns the next
// registry's builder (nil when the serving plugins no longer fit together,
// which cannot happen) and the result; it swaps nothing. The caller holds
// reloadMu, and either commits or discards the builder.
func (h *Host) prepare(files []snapshotFile, failed []LoadError) (*registryBuilder, *ReloadResult) {
	old := h.reg.Load()
	res := &ReloadResult{Failed: failed}
	var serving []*Plugin // serving versions whose file is still there
	var changed, added []snapshotFile
	present := map[string]bool{}
	for _, f := range files {
		present[f.path] = true
		switch prev := old.pluginAt(f.path); {
		case prev == nil:
			added = append(added, f)
		case prev.key == f.key:
			serving = append(serving, prev)
		default:
			serving = append(serving, prev)
			changed = append(changed, f)
		}
	}
	// A serving plugin whose file could not be read this time (its
	// manifest grew past the bound, became a FIFO) keeps serving, as a
	// version that fails to load does.
	for _, f := range failed {
		if prev := old.pluginAt(f.Path); prev != nil && !present[f.Path] {
			present[f.Path] = true
			serving = append(serving, prev)
		}
	}
	for _, p := range old.plugins {
		if !present[p.Path] {
			res.Removed = append(res.Removed, p.Name)
		}
	}
	b, err := h.build(old.gen+1, serving)
	if err != nil { // cannot happen: these plugins served together
		h.log.Error().Err(err).Msg("serving plugins no longer fit together; nothing reloaded")
		return nil, res
	}
	for _, f := range changed {
		b, serving = h.replace(b, serving, f, res)
	}
	loaded := make([]*Plugin, len(added))
	for i, f := range added {
		p, err := h.loadPlugin(h.life, f)
		if err != nil {
			res.Failed = append(res.Failed, newLoadError(f, p, err))
			continue
		}
		loaded[i] = p
	}
	contested := h.contested(old.gen+1, serving, loaded)
	for i, p := range loaded {
		if p == nil {
			continue
		}
		err := contested[p]
		if err == nil {
			if err = b.add(p); err == nil {
				serving = append(serving, p)
				res.Loaded = append(res.Loaded, p.Name)
				continue
			}
		}
		p.close(h.life)
		res.Failed = append(res.Failed, newLoadError(added[i], p, err))
	}
	return b, res
}

// contested returns the plugins of added (nil entries skipped) that claim
// a name, RPC id or route that another of them claims too, where neither
// conflicts with a serving plugin, each with its error. An incumbent (a
// file that served when the serving plugins were last recorded, see
// incumbents) comes first, as a serving plugin does: the others that
// contest it are refused. Among claimants of which none is an incumbent,
// or all are, there is none to prefer, and every one is refused: the
// first in path order would otherwise win, at a start above all, and a
// file planted as plugins/kv.wasm beside plugins/kv/kv.wasm (once, in any
// subfolder: see checkPlace), refused by a hot reload while the real kv
// served, would become plugin kv at the next restart, with kv's
// database. A newcomer that takes the name of an incumbent still
// there but failing to load is refused too. A plugin that conflicts with
// a serving one is refused by registryBuilder.add as before, and contests
// nothing.
func (h *Host) contested(gen uint64, serving []*Plugin, added []*Plugin) map[*Plugin]error {
	var free []*Plugin // those that fit with the serving plugins
	for _, p := range added {
		if p == nil {
			continue
		}
		if _, err := h.build(gen, append(slices.Clone(serving), p)); err == nil {
			free = append(free, p)
		}
	}
	out := map[*Plugin]error{}
	refuse := func(p *Plugin, err error) {
		if out[p] == nil {
			out[p] = err
		}
	}
	held := h.incumbents.held(serving, added)
	for _, p := range free {
		if path, ok := held[p.Name]; ok && !h.incumbents.has(p.Path) {
			refuse(p, fmt.Errorf("plugin %s's file %s served before and is still there, failing to load: it keeps the name; remove it to load this one", p.Name, path))
		}
	}
	for i, p := range free {
		for _, q := range free[i+1:] {
			_, err := h.build(gen, []*Plugin{p, q})
			if err == nil {
				continue
			}
			pi, qi := h.incumbents.has(p.Path), h.incumbents.has(q.Path)
			if pi && qi {
				// Both served from their paths; one that is the very
				// module that served comes before one rewritten since,
				// which never served: else the author of one plugin's
				// folder could give it another's RPC id or route and
				// take both down at the next start.
				pi, qi = h.incumbents.unchanged(p), h.incumbents.unchanged(q)
			}
			switch {
			case pi && !qi:
				refuse(q, fmt.Errorf("%w; %s served before, and comes first", err, p.Path))
			case qi && !pi:
				refuse(p, fmt.Errorf("%w; %s served before, and comes first", err, q.Path))
			default:
				contest := fmt.Errorf("%w; none of them serving, so both are refused: remove one", err)
				refuse(p, contest)
				refuse(q, contest)
			}
		}
	}
	return out
}

// commit records res's failures and, when anything changed, sorts and
// swaps in b's registry; b may be nil (nothing to swap). Then it records
// the incumbents (recordServing). The caller holds reloadMu.
func (h *Host) commit(b *registryBuilder, res *ReloadResult) {
	fresh := h.recordErrors(res.Failed)
	if b != nil && (len(res.Loaded) > 0 || len(res.Removed) > 0) {
		slices.SortFunc(b.reg.plugins, func(a, b *Plugin) int { return cmp.Compare(a.Path, b.Path) })
		h.swap(b.reg)
	}
	h.logResult(res, fresh)
	h.observeResult(res, fresh)
	h.recordServing()
}

// replace loads f, a changed version of a serving plugin, and returns the
// builder and serving set with it in place of the old version; when it
// fails to load or conflicts with the others, it records the failure in
// res and returns b and serving as they were.
func (h *Host) replace(b *registryBuilder, serving []*Plugin, f snapshotFile, res *ReloadResult) (*registryBuilder, []*Plugin) {
	p, err := h.loadPlugin(h.life, f)
	if err == nil {
		others := slices.DeleteFunc(slices.Clone(serving), func(q *Plugin) bool { return q.Path == f.path })
		var nb *registryBuilder
		if nb, err = h.build(b.reg.gen, others); err == nil {
			if err = nb.add(p); err == nil {
				res.Loaded = append(res.Loaded, p.Name)
				return nb, append(others, p)
			}
		}
		p.close(h.life)
	}
	res.Failed = append(res.Failed, newLoadError(f, p, err))
	return b, serving
}

// build returns a builder holding plugins, added in order.
func (h *Host) build(gen uint64, plugins []*Plugin) (*registryBuilder, error) {
	b := newRegistryBuilder(gen, h.cfg.CheckRoutes)
	for _, p := range plugins {
		if err := b.add(p); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// newLoadError describes f's failure; p is its loaded plugin when the
// failure came after the load (a conflict), else nil.
func newLoadError(f snapshotFile, p *Plugin, err error) LoadError {
	le := LoadError{Plugin: f.name, Path: f.path, Version: f.version, Err: err, At: time.Now()}
	if p != nil {
		for _, r := range p.RPCs() {
			le.RPCs = append(le.RPCs, r.ID)
		}
	}
	return le
}

// swap installs reg and retires the plugins that are no longer in it.
func (h *Host) swap(reg *registry) {
	old := h.reg.Swap(reg)
	for _, p := range old.plugins {
		if reg.pluginAt(p.Path) != p {
			h.retiring.Add(1)
			go func() {
				defer h.retiring.Done()
				p.retire(context.WithoutCancel(h.life), p.callTimeout+time.Second)
			}()
		}
	}
}

// recordErrors replaces the current load errors with failed, and returns
// the failures that are new: a file that fails again with the same
// version and error keeps its first time and is not new.
func (h *Host) recordErrors(failed []LoadError) (fresh []LoadError) {
	prev := h.errs.Load()
	next := &loadErrors{rpcs: map[string]string{}}
	for _, f := range failed {
		i := slices.IndexFunc(prev.list, func(e LoadError) bool { return e.Path == f.Path })
		if i >= 0 && prev.list[i].Version == f.Version && prev.list[i].Err.Error() == f.Err.Error() {
			f.At = prev.list[i].At
		} else {
			fresh = append(fresh, f)
		}
		next.list = append(next.list, f)
		for _, id := range f.RPCs {
			next.rpcs[id] = f.Plugin
		}
	}
	slices.SortFunc(next.list, func(a, b LoadError) int { return cmp.Compare(a.Path, b.Path) })
	h.errs.Store(next)
	return fresh
}

// logResult logs a reload's new failures and, when anything changed, a
// summary. A reload that changed nothing and found no new failure logs
// nothing.
func (h *Host) logResult(res *ReloadResult, fresh []LoadError) {
	reg := h.reg.Load()
	for _, name := range res.Loaded {
		if p := reg.plugin(name); p != nil {
			h.log.Info().Str("plugin", p.Name).Str("plugin_version", p.Version).Str("path", p.Path).
				Int("rpcs", len(p.RPCs())).Int("routes", len(p.Routes())).Msg("plugin loaded")
		}
	}
	for _, f := range fresh {
		msg := "plugin not loaded"
		if p := reg.pluginAt(f.Path); p != nil {
			msg = "plugin not loaded; the previous version keeps serving"
		}
		h.log.Error().Err(f.Err).Str("plugin", f.Plugin).Str("path", f.Path).Strs("rpcs", f.RPCs).Msg(msg)
	}
	if len(res.Loaded) == 0 && len(res.Removed) == 0 && len(fresh) == 0 {
		return
	}
	ev := h.log.Info()
	if len(res.Failed) > 0 {
		ev = h.log.Warn()
	}
	ev.Strs("loaded", res.Loaded).Strs("removed", res.Removed).Int("failed", len(res.Failed)).
		Uint64("generation", reg.gen).Msg("plugins reloaded")
}

// LoadErrors returns the plugin files that fail to load now, sorted by
// path: each names its file and plugin. A file that is gone, or that loads
// now, has no entry.
func (h *Host) LoadErrors() []LoadError {
	return slices.Clone(h.errs.Load().list)
}

// rpcNotFound is the error of a call to an unknown RPC id. When a plugin
// that registers id fails to load, its cause says so (ErrPluginNotLoaded);
// when some plugins fail before registering anything, it names them.
func (h *Host) rpcNotFound(id string) *CallError {
	ce := &CallError{Code: abi.CodeNotFound, Refused: RefusedNotFound}
	errs := h.errs.Load()
	if name, ok := errs.rpcs[id]; ok {
		ce.Err = fmt.Errorf("rpc %q: %w: plugin %s", id, ErrPluginNotLoaded, name)
	} else if len(errs.list) > 0 {
		names := make([]string, len(errs.list))
		for i, e := range errs.list {
			names[i] = e.Plugin
		}
		ce.Err = fmt.Errorf("rpc %q: no plugin registers it; plugins failing to load: %s", id, strings.Join(names, ", "))
	}
	return ce
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

// pluginAt returns the plugin loaded from path, or nil.
func (r *registry) pluginAt(path string) *Plugin {
	for _, p := range r.plugins {
		if p.Path == path {
			return p
		}
	}
	return nil
}
