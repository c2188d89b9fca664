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
	// Manifest is the plugin's manifest (NAME.toml); nil keeps the one
	// beside the plugin file, or none.
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
// loads: u's, else those beside target. wasm is nil when u has no module
// and target has none yet: then u's manifest was checked on its own, and
// written when valid.
func (h *Host) completeUpload(target string, u Upload) (wasm, mf []byte, err error) {
	if err := u.check(); err != nil {
		return nil, nil, err
	}
	mf = u.Manifest
	if mf == nil && !u.RemoveManifest {
		if mf, err = readManifest(target); err != nil {
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

// writeManifestAlone checks mf and writes it beside target, a plugin file
// still to come.
func (h *Host) writeManifestAlone(target string, mf []byte) error {
	if _, err := manifest.Parse(mf, h.maxima()); err != nil {
		return fmt.Errorf("%w: manifest %s: %w", ErrDeployRefused, pluginName(target)+manifest.Ext, err)
	}
	return writeAtomic(manifestPath(target), mf)
}

// writeUpload writes what u carries beside target: first the manifest
// (or its removal), then the module.
func writeUpload(target string, u Upload) error {
	switch {
	case u.Manifest != nil:
		if err := writeAtomic(manifestPath(target), u.Manifest); err != nil {
			return err
		}
	case u.RemoveManifest:
		if err := os.Remove(manifestPath(target)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := syncDir(filepath.Dir(target)); err != nil {
			return err
		}
	}
	if u.Wasm == nil {
		return nil
	}
	return writeAtomic(target, u.Wasm)
}
