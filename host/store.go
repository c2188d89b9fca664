package host

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"
)

// PluginStore is where a cluster's plugins live (Config.Store): every node
// on one store loads the same set from it, and a deploy or a removal on
// any node is written there. cmd/server wires it to the pluginstore
// package.
type PluginStore interface {
	// List returns the name and SHA-256 (hex) of every stored plugin,
	// without its .wasm, and the store's generation, as of one instant.
	List(ctx context.Context) ([]StoredPlugin, int64, error)
	// Get returns the .wasm of the plugin called name: an error wrapping
	// ErrNoPlugin when the store has none.
	Get(ctx context.Context, name string) ([]byte, error)
	// Put stores plugins (Name and Wasm) in one write, only if the store's
	// generation is still gen: an error wrapping ErrStoreChanged when it
	// moved.
	Put(ctx context.Context, gen int64, plugins []StoredPlugin) error
	// Delete removes the plugin called name: an error wrapping ErrNoPlugin
	// when the store has none.
	Delete(ctx context.Context, name string) error
}

// StoredPlugin is one plugin in a PluginStore.
type StoredPlugin struct {
	// Name is the plugin's name; SHA256 the hex SHA-256 of its .wasm.
	Name, SHA256 string
	// Wasm is the plugin's .wasm, when it was read.
	Wasm []byte
	// Size is the .wasm's length in bytes, from List; 0 when the store
	// does not say (the .wasm's length is then checked once it is read).
	Size int64
	// Manifest is the operator's manifest (NAME.toml) stored with the
	// plugin, nil when it has none. List returns it too: it is small, and
	// a changed manifest alone reloads the plugin.
	Manifest []byte
}

// Sentinels of a PluginStore's errors.
var (
	// ErrStoreChanged is the cause of a PluginStore.Put whose generation
	// is no longer the store's: another node wrote first.
	ErrStoreChanged = errors.New("the plugin store changed since it was read")
	// ErrStoreUnavailable is the cause of a PluginStore call that could
	// not reach the store (its database is away): worth retrying.
	ErrStoreUnavailable = errors.New("the plugin store is unavailable")
)

const (
	// storePathPrefix begins the Path of a plugin loaded from the store:
	// store:/<name>.wasm.
	storePathPrefix = "store:/"
	// storeTimeout bounds one read of the store outside a request.
	storeTimeout = 30 * time.Second
	// maxStoreAttempts bounds how often a deploy is validated again
	// because another node wrote the store meanwhile.
	maxStoreAttempts = 3
)

// storePath is the Path of the stored plugin called name.
func storePath(name string) string { return storePathPrefix + name + ".wasm" }

// storeFiles reads the store's set as plugin files, and its generation. It
// fetches the .wasm only of the plugins whose stored version or manifest this host
// does not serve; a serving version's file has no bytes, which prepare
// never needs. A .wasm over MaxPluginBytes is in failed. The caller holds
// scanMu.
func (h *Host) storeFiles(ctx context.Context) (files []snapshotFile, failed []LoadError, gen int64, err error) {
	list, gen, err := h.cfg.Store.List(ctx)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("read plugin store: %w", err)
	}
	reg := h.reg.Load()
	for _, sp := range list {
		f := snapshotFile{path: storePath(sp.Name), name: sp.Name, version: sp.SHA256[:min(12, len(sp.SHA256))], manifest: sp.Manifest}
		f.key = snapshotKey(sp.SHA256, f.manifest)
		if p := reg.pluginAt(f.path); p == nil || p.key != f.key { // a new .wasm or manifest: load it again
			tooLarge := func(size int64) {
				failed = append(failed, LoadError{Plugin: sp.Name, Path: f.path, Version: f.version, At: time.Now(),
					Err: fmt.Errorf("is %d bytes, more than the plugin size limit of %d bytes", size, h.cfg.MaxPluginBytes)})
			}
			if sp.Size > h.cfg.MaxPluginBytes { // not read: this node's store connections could not take it
				tooLarge(sp.Size)
				continue
			}
			wasm, err := h.cfg.Store.Get(ctx, sp.Name)
			switch {
			case errors.Is(err, ErrNoPlugin):
				continue // removed since List: the next change applies it
			case err != nil:
				return nil, nil, 0, fmt.Errorf("read plugin store: %w", err)
			case int64(len(wasm)) > h.cfg.MaxPluginBytes:
				tooLarge(int64(len(wasm)))
				continue
			}
			f.version, f.wasm = version(wasm), wasm
			f.key = snapshotKey(fullHash(wasm), f.manifest)
		}
		files = append(files, f)
	}
	return files, failed, gen, nil
}

// readFiles reads the plugins to load: the plugin directory, or the store
// in cluster mode. The caller holds scanMu.
func (h *Host) readFiles() ([]snapshotFile, []LoadError, error) {
	if h.cfg.Store == nil {
		return readPluginFiles(h.cfg.PluginDir, h.cfg.MaxPluginBytes)
	}
	ctx, cancel := context.WithTimeout(h.life, storeTimeout)
	defer cancel()
	files, failed, _, err := h.storeFiles(ctx)
	return files, failed, err
}

// loadStore is loadFirst in cluster mode: it loads the store's set, after
// seeding the store from the plugin directory when nothing was ever
// written to it (generation 0); when another node seeds it first, it loads
// what that node stored.
func (h *Host) loadStore() (*ReloadResult, error) {
	ctx, cancel := context.WithTimeout(h.life, storeTimeout)
	defer cancel()
	h.scanMu.Lock()
	defer h.scanMu.Unlock()
	files, failed, gen, err := h.storeFiles(ctx)
	if err != nil {
		return nil, err
	}
	if gen == 0 && h.cfg.PluginDir != "" {
		res, err := h.seed(ctx)
		switch {
		case errors.Is(err, ErrStoreChanged): // another node seeded it: load that
		case err != nil:
			return nil, err
		case res != nil:
			return res, nil
		}
		if files, failed, _, err = h.storeFiles(ctx); err != nil {
			return nil, err
		}
	}
	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	return h.apply(files, failed), nil
}

// seed loads the plugin directory and stores the plugins that load, in
// one write at generation 0, and serves them. When none loads, it writes
// nothing, so that the next node to start may seed; when the directory
// does not exist, it returns nil and no error. The caller holds scanMu.
//
// # Errors
//
// ErrStoreChanged when another node seeded the store first; nothing is
// swapped then.
func (h *Host) seed(ctx context.Context) (*ReloadResult, error) {
	if _, err := os.Stat(h.cfg.PluginDir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	files, failed, err := readPluginFiles(h.cfg.PluginDir, h.cfg.MaxPluginBytes)
	if err != nil {
		return nil, fmt.Errorf("seed plugin store: %w", err)
	}
	// A name may have a file at each of its two places (checkPlace), one
	// of which loads: what is seeded is the file that loaded, known by
	// its key, as both paths become the store's one.
	byKey := map[string]snapshotFile{}
	for i, f := range files {
		files[i].path = storePath(f.name)
		byKey[f.key] = f
	}
	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	defer h.pruneCache()
	old := h.reg.Load()
	b, res := h.prepare(files, failed)
	if b == nil || len(b.reg.plugins) == 0 {
		h.commit(b, res) // records and logs the failures
		return res, nil
	}
	var seeds []StoredPlugin
	for _, p := range b.reg.plugins {
		// The operator's manifest goes with its plugin: without it, every
		// node would serve the plugin with no grants and every -env entry.
		f := byKey[p.key]
		seeds = append(seeds, StoredPlugin{Name: p.Name, Wasm: f.wasm, Manifest: f.manifest})
	}
	slices.SortFunc(seeds, func(a, b StoredPlugin) int { return cmp.Compare(a.Name, b.Name) })
	if err := h.cfg.Store.Put(ctx, 0, seeds); err != nil {
		h.discard(b, old)
		return nil, fmt.Errorf("seed plugin store: %w", err)
	}
	h.log.Info().Int("plugins", len(seeds)).Str("dir", h.cfg.PluginDir).Msg("seeded the empty plugin store from the plugin directory")
	h.commit(b, res)
	return res, nil
}

// deployStored is Deploy in cluster mode: the upload is validated aside
// against the store's set, then written to the store, only if no other
// node wrote it meanwhile (else it is validated again against the new
// set), then swapped in here; the other nodes load it when the store
// notifies them.
func (h *Host) deployStored(ctx context.Context, name string, u Upload) (*ReloadResult, error) {
	if err := u.check(); err != nil {
		return nil, err
	}
	h.scanMu.Lock()
	defer h.scanMu.Unlock()
	for attempt := 1; ; attempt++ {
		files, failed, gen, err := h.storeFiles(ctx)
		if err != nil {
			return nil, err
		}
		up, err := h.completeStored(ctx, name, u, files)
		if err != nil {
			return nil, err
		}
		res, err := h.deployStoredAt(ctx, files, failed, gen, up)
		if !errors.Is(err, ErrStoreChanged) || attempt == maxStoreAttempts {
			return res, err
		}
	}
}

// completeStored returns the plugin file a cluster deploy of u loads: u's
// module and manifest, else the stored plugin's (files, the store's set).
func (h *Host) completeStored(ctx context.Context, name string, u Upload, files []snapshotFile) (snapshotFile, error) {
	path := storePath(name)
	i := slices.IndexFunc(files, func(f snapshotFile) bool { return f.path == path })
	wasm, mf := u.Wasm, u.Manifest
	if mf == nil && !u.RemoveManifest && i >= 0 {
		mf = files[i].manifest
	}
	if wasm == nil {
		if i < 0 {
			return snapshotFile{}, fmt.Errorf("%w: %s (in cluster mode a manifest is stored with its plugin: upload the plugin first)", ErrNoPlugin, name)
		}
		if wasm = files[i].wasm; wasm == nil {
			var err error
			if wasm, err = h.cfg.Store.Get(ctx, name); err != nil {
				return snapshotFile{}, fmt.Errorf("read plugin store: %w", err)
			}
		}
	}
	f := snapshotFile{path: path, name: name, version: version(wasm), wasm: wasm, manifest: mf}
	f.key = snapshotKey(fullHash(wasm), mf)
	return f, nil
}

// deployStoredAt validates up against files, the store's set at gen, and
// writes it to the store and swaps it in when it is accepted. It first
// serves the store's set, as a sync would, so that what the store holds
// comes before the upload: an upload that conflicts with a stored plugin
// is refused, even one this node did not serve yet.
func (h *Host) deployStoredAt(ctx context.Context, files []snapshotFile, failed []LoadError, gen int64, up snapshotFile) (*ReloadResult, error) {
	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	if h.closed {
		return nil, errHostClosed
	}
	defer h.pruneCache() // a refused upload's code too
	h.apply(files, failed)
	old := h.reg.Load()
	b, res, err := h.prepareUpload(files, failed, up)
	if err != nil {
		return res, err
	}
	if err := h.cfg.Store.Put(ctx, gen, []StoredPlugin{{Name: up.name, Wasm: up.wasm, Manifest: up.manifest}}); err != nil {
		h.discard(b, old)
		return nil, fmt.Errorf("deploy %s: %w", up.name, err)
	}
	h.commit(b, res)
	return res, nil
}

// removeStored is Remove in cluster mode: it deletes the plugin from the
// store and loads the store's set; the other nodes do when the store
// notifies them.
func (h *Host) removeStored(ctx context.Context, name string) (*ReloadResult, error) {
	h.scanMu.Lock()
	defer h.scanMu.Unlock()
	if err := h.cfg.Store.Delete(ctx, name); err != nil {
		return nil, fmt.Errorf("remove %s: %w", name, err)
	}
	return h.reload()
}
