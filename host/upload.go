package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/warden-rpc/warden/manifest"
)

// Upload is what DeployUpload installs for one plugin: its module, its
// manifest, or both. A cluster's store can carry the same three fields.
type Upload struct {
	// Wasm is the plugin's module; nil keeps the plugin's file.
	Wasm []byte
	// Manifest is the plugin's manifest (NAME.toml, at the top of the
	// plugin folder, see manifestPath); nil keeps the plugin's, or none.
	Manifest []byte
	// RemoveManifest deletes the manifest, so that the plugin runs with no
	// grants and the server's limits. It needs Manifest nil.
	RemoveManifest bool
}

// ErrManifestTooLarge is the cause of an upload whose manifest is over
// manifest.MaxBytes.
var ErrManifestTooLarge = fmt.Errorf("manifest is larger than %d bytes", manifest.MaxBytes)

// check refuses an upload whose manifest is too large, or that both
// carries and removes a manifest: in either mode, before anything is read.
func (u Upload) check() error {
	if len(u.Manifest) > manifest.MaxBytes {
		return ErrManifestTooLarge
	}
	if u.RemoveManifest && u.Manifest != nil {
		return errors.New("an upload cannot both carry and remove a manifest")
	}
	return nil
}

// completeUpload returns the module and manifest a deploy of u to target
// loads: u's, else target's module and its manifest (manifestPath). wasm
// is nil when u has no module and target has none yet: then u's manifest
// was checked on its own, and written when valid.
func (h *Host) completeUpload(target string, u Upload) (wasm, mf []byte, err error) {
	if err := u.check(); err != nil {
		return nil, nil, err
	}
	mf = u.Manifest
	if mf == nil && !u.RemoveManifest {
		if mf, err = readManifest(h.cfg.PluginDir, target); err != nil {
			return nil, nil, err
		}
	}
	wasm = u.Wasm
	if wasm == nil {
		wasm, err = readPluginFile(target, h.cfg.MaxPluginBytes)
		switch {
		case errors.Is(err, fs.ErrNotExist) && u.Manifest != nil:
			return nil, nil, h.writeManifestAlone(target, u.Manifest)
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("%w: %s", ErrNoPlugin, pluginName(target))
		case err != nil:
			return nil, nil, fmt.Errorf("%w: %s: %w", ErrNoPlugin, pluginName(target), err)
		}
	}
	return wasm, mf, nil
}

// writeManifestAlone checks mf and writes it where the manifest of target,
// a plugin file still to come, is read (manifestPath).
func (h *Host) writeManifestAlone(target string, mf []byte) error {
	if _, err := manifest.Parse(mf, h.maxima()); err != nil {
		return fmt.Errorf("%w: manifest %s: %w", ErrDeployRefused, pluginName(target)+manifest.Ext, err)
	}
	return h.writeAtomic(manifestPath(h.cfg.PluginDir, target), mf)
}

// writeUpload writes what u carries: the module at target, the manifest
// at the top of the plugin folder (manifestPath), even when target is in
// a subfolder. A module alone, or a
// manifest alone (or its removal), is one atomic change of one file. A
// module with a manifest, or with the manifest's removal, is two: both
// new files are staged first, so that a failure to write either (a full
// disk) changes nothing, then replaceTogether swaps them in.
func (h *Host) writeUpload(target string, u Upload) error {
	mfPath := manifestPath(h.cfg.PluginDir, target)
	switch {
	case u.Wasm == nil && u.Manifest != nil:
		return h.writeAtomic(mfPath, u.Manifest)
	case u.Wasm == nil && u.RemoveManifest:
		if err := os.Remove(mfPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return syncDir(filepath.Dir(mfPath))
	case u.Wasm == nil:
		return nil
	case u.Manifest == nil && !u.RemoveManifest:
		return h.writeAtomic(target, u.Wasm)
	}
	module, mf := &replacement{path: target}, &replacement{path: mfPath}
	var err error
	if module.tmp, err = stage(target, u.Wasm); err != nil {
		return err
	}
	if u.Manifest != nil {
		if mf.tmp, err = stage(mfPath, u.Manifest); err != nil {
			_ = os.Remove(module.tmp)
			return err
		}
	}
	return h.replaceTogether(module, mf)
}
