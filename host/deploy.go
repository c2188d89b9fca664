package host

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/warden-rpc/warden/storage"
)

// Sentinels of Deploy and Remove.
var (
	// ErrDeployRefused is the cause of a Deploy whose upload failed to
	// load or conflicts with a serving plugin; nothing was written.
	ErrDeployRefused = errors.New("plugin refused")
	// ErrNoPlugin is the cause of a Remove of a name no plugin file nor
	// manifest has.
	ErrNoPlugin = errors.New("no plugin file has this name")
	// ErrPluginTooLarge is the cause of a Deploy of more than
	// Config.MaxPluginBytes.
	ErrPluginTooLarge = errors.New("plugin is larger than the plugin size limit")
)

// MaxPluginBytes returns the largest plugin file the host loads
// (Config.MaxPluginBytes), for an upload's bound.
func (h *Host) MaxPluginBytes() int64 { return h.cfg.MaxPluginBytes }

// Deploy installs wasm as the plugin called name: it is compiled,
// validated, initialised and checked against the serving plugins aside,
// as a reload does for a changed file, and only once it is accepted is it
// written into the plugin directory and swapped in. It replaces the file
// the plugin serves from (plugins/echo/echo.wasm, say), else a file of the
// name that served last (Config.ServingFile) or is at
// <PluginDir>/<name>.wasm or <PluginDir>/<name>/<name>.wasm, else it
// becomes <PluginDir>/<name>.wasm: never another file of the name in
// another folder (see pluginPath). The write goes to a hidden
// temporary name in the same folder, which is then renamed over the
// plugin file.
// Like Reload, it also applies whatever else changed in the directory, and
// it runs one at a time with Reload and the watcher. In cluster mode
// (Config.Store) the upload is validated against the store's set and
// written to the store instead (see PluginStore); the other nodes load it
// at their next Reload.
//
// # Errors
//
// storage.ErrBadName for a name storage.CheckPluginName refuses;
// ErrPluginTooLarge; ErrDeployRefused, with the reason, when the upload
// does not load or conflicts with a serving plugin: then nothing is
// written, nothing is swapped, and res names the failure. Also the
// errors of Reload, and of writing the file.
func (h *Host) Deploy(ctx context.Context, name string, wasm []byte) (*ReloadResult, error) {
	return h.DeployUpload(ctx, name, Upload{Wasm: wasm})
}

// DeployUpload is Deploy for a plugin, its manifest, or both (see Upload):
// what the upload leaves out is taken from the plugin folder, the whole is
// validated aside, and only once accepted are they written: both staged
// first, then swapped in so that the plugin file never stands beside a
// manifest it was not validated with, even when a write fails part way
// (see replaceTogether).
// A manifest for a plugin that has no file yet is checked and written on
// its own, for the plugin's first deploy to load under it.
//
// # Errors
//
// As Deploy; ErrNoPlugin for an upload without Wasm when the plugin has
// no file (and the upload carries no manifest) or its file cannot be read;
// ErrManifestTooLarge. In cluster mode the store holds the manifest with
// the plugin, and a manifest alone needs the plugin in the store.
func (h *Host) DeployUpload(ctx context.Context, name string, u Upload) (*ReloadResult, error) {
	if err := storage.CheckPluginName(name); err != nil {
		return nil, err
	}
	if int64(len(u.Wasm)) > h.cfg.MaxPluginBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrPluginTooLarge, len(u.Wasm), h.cfg.MaxPluginBytes)
	}
	if h.cfg.Store != nil {
		return h.deployStored(ctx, name, u)
	}
	h.scanMu.Lock()
	defer h.scanMu.Unlock()
	files, failed, err := readPluginFiles(h.cfg.PluginDir, h.cfg.MaxPluginBytes)
	if err != nil {
		return nil, err
	}
	target := h.pluginPath(name, files, failed)
	if err := checkNoSubfolderManifest(h.cfg.PluginDir, target); err != nil {
		// As a reload would refuse what this deploy writes.
		err = fmt.Errorf("%w: %w", ErrDeployRefused, err)
		return &ReloadResult{Failed: []LoadError{{Plugin: name, Path: target, Err: err, At: time.Now()}}}, err
	}
	wasm, mf, err := h.completeUpload(target, u)
	switch {
	case errors.Is(err, ErrDeployRefused): // a manifest alone, for a plugin still to come
		return &ReloadResult{Failed: []LoadError{{Plugin: name, Path: manifestPath(h.cfg.PluginDir, target), Err: err, At: time.Now()}}}, err
	case err != nil:
		return nil, err
	case wasm == nil:
		return &ReloadResult{}, nil // that manifest was written
	}
	up := newSnapshotFile(target, wasm, mf)

	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	if h.closed {
		return nil, errHostClosed
	}
	defer h.pruneCache() // a refused upload's code too
	old := h.reg.Load()
	b, res, err := h.prepareUpload(files, failed, up)
	if err != nil {
		return res, err
	}
	if err := h.writeUpload(target, u); err != nil {
		h.discard(b, old)
		return nil, fmt.Errorf("deploy %s: %w", name, err)
	}
	h.commit(b, res)
	return res, nil
}

// prepareUpload loads files, with up in place of any file at up's path,
// aside, as prepare does. When up fails to load or conflicts with a
// serving plugin, it discards what it loaded and fails with
// ErrDeployRefused; res names the failure. The caller holds reloadMu, and
// commits or discards the builder.
func (h *Host) prepareUpload(files []snapshotFile, failed []LoadError, up snapshotFile) (*registryBuilder, *ReloadResult, error) {
	files = slices.DeleteFunc(files, func(f snapshotFile) bool { return f.path == up.path })
	failed = slices.DeleteFunc(failed, func(e LoadError) bool { return e.Path == up.path })
	files = append(files, up)
	slices.SortFunc(files, func(a, b snapshotFile) int { return cmp.Compare(a.path, b.path) })
	old := h.reg.Load()
	b, res := h.prepare(files, failed)
	if i := slices.IndexFunc(res.Failed, func(e LoadError) bool { return e.Path == up.path }); i >= 0 {
		h.discard(b, old)
		h.log.Warn().Err(res.Failed[i].Err).Str("plugin", up.name).Str("path", up.path).Msg("plugin deploy refused; nothing written")
		return nil, res, fmt.Errorf("%w: %w", ErrDeployRefused, res.Failed[i].Err)
	}
	return b, res, nil
}

// Remove deletes the plugin file called name (at both of its places,
// <PluginDir>/<name>.wasm and <PluginDir>/<name>/<name>.wasm, as two are
// a conflict) and its manifest, <PluginDir>/<name>.toml, then reloads, so
// that its RPCs and routes stop serving, and a plugin deployed later
// under the name does not inherit the manifest's grants. A manifest alone,
// sent for a plugin still to come, is deleted too. Its database is kept.
// A <name>.toml in the plugin's subfolder is no manifest (manifestPath)
// and is left alone. It runs one at a time with Reload. In cluster mode it
// deletes the plugin from the store, which holds its manifest with it.
//
// # Errors
//
// storage.ErrBadName for a name storage.CheckPluginName refuses;
// ErrNoPlugin when no plugin file nor manifest has that name; the errors
// of removing the files and of Reload.
func (h *Host) Remove(ctx context.Context, name string) (*ReloadResult, error) {
	if err := storage.CheckPluginName(name); err != nil {
		return nil, err
	}
	if h.cfg.Store != nil {
		return h.removeStored(ctx, name)
	}
	h.scanMu.Lock()
	defer h.scanMu.Unlock()
	modules, manifests, err := namedFiles(h.cfg.PluginDir, name)
	if err != nil {
		return nil, err
	}
	if len(modules)+len(manifests) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrNoPlugin, name)
	}
	// The modules go first: a removal that fails part way leaves a module
	// with its own manifest only.
	for _, p := range slices.Concat(modules, manifests) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove %s: %w", name, err)
		}
	}
	if err := syncDir(h.cfg.PluginDir); err != nil {
		h.log.Warn().Err(err).Str("plugin", name).Msg("sync plugin directory after remove")
	}
	return h.reload()
}

// namedFiles returns the files in dir of the plugin called name: its
// modules, and its manifest (manifestPath: <dir>/<name>.toml) when there
// is one, with or without a module. A file of the name in another
// subfolder (other/NAME.wasm) is no plugin's (checkPlace), and is left
// alone.
func namedFiles(dir, name string) (modules, manifests []string, err error) {
	paths, err := pluginFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	modules = slices.DeleteFunc(paths, func(p string) bool { return pluginName(p) != name || checkPlace(dir, p) != nil })
	mp := manifestPath(dir, name+".wasm")
	if _, err := os.Lstat(mp); err == nil {
		manifests = append(manifests, mp)
	}
	return modules, manifests, nil
}

// pluginPath returns where a deploy of the plugin called name writes:
// the file its serving version was loaded from; else the file of an
// incumbent of the name that is still there (it served last, see
// incumbents, and fails to load now); else the first of its usual places, <PluginDir>/<name>.wasm and <PluginDir>/<name>/<name>.wasm,
// that holds a file of the name (one that fails to load, say); else
// <PluginDir>/<name>.wasm.
//
// # Notes
//
// Every path it returns is one of the name's two usual places: a serving
// plugin and an incumbent are loaded from one, as the layout rule
// (checkPlace) refuses any other. A file of the name elsewhere
// (<PluginDir>/other/<name>.wasm) is never written to: whoever may write
// that subfolder planted it, perhaps unloadable, so that the operator's
// first deploy of name would write the code there, for them to replace at
// will, and the next reload would load theirs as the plugin, with its
// database. Such a file is refused by the layout rule, at every load. A
// file at the other usual place is a second claimant of the name:
// refused while the deployed one serves, and, when it loads while none of
// them serves, the deploy is refused with both named (see contested).
func (h *Host) pluginPath(name string, files []snapshotFile, failed []LoadError) string {
	reg := h.reg.Load()
	if p := reg.plugin(name); p != nil {
		return p.Path
	}
	if path, ok := h.incumbents.held(reg.plugins, nil)[name]; ok {
		return path
	}
	present := map[string]bool{}
	for _, f := range files {
		present[f.path] = true
	}
	for _, e := range failed {
		present[e.Path] = true
	}
	usual := []string{filepath.Join(h.cfg.PluginDir, name+".wasm"), filepath.Join(h.cfg.PluginDir, name, name+".wasm")}
	for _, p := range usual {
		if present[p] {
			return p
		}
	}
	return usual[0]
}

// discard closes the plugins b loaded that old does not serve; b is a
// prepared registry that will not be committed.
func (h *Host) discard(b *registryBuilder, old *registry) {
	if b == nil {
		return
	}
	for _, p := range b.reg.plugins {
		if !slices.Contains(old.plugins, p) {
			p.close(h.life)
		}
	}
}
