package host

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// maxFreshNames bounds the names createFresh tries before it gives up.
const maxFreshNames = 100

// The suffixes of the files made beside a file path (named
// freshPrefix(path), a fresh number, then the suffix): a new version
// staged for a rename over path, and the old one moved aside. Neither
// ends in .wasm, so neither is ever loaded; a start removes those a
// deploy left when it stopped part way (removeLeftovers).
const (
	stagedSuffix = ".tmp"
	asideSuffix  = ".old"
)

// freshPrefix is how the names of the files staged or moved aside beside
// path begin: .<base>., hidden.
func freshPrefix(path string) string { return "." + filepath.Base(path) + "." }

// writeAtomic writes b to path through a new hidden file in the same
// folder (see stage), renamed over path, and syncs the folder: a reader
// sees the old file or the new one, never a part.
func (h *Host) writeAtomic(path string, b []byte) error {
	tmp, err := stage(path, b)
	if err != nil {
		return err
	}
	if err := h.rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// stage writes b, synced, to a new file beside path for a rename over
// path, and returns the new file's name: .<base>.<random>.tmp, hidden,
// and never loaded (it does not end in .wasm).
//
// # Notes
//
// The file is created afresh (see createFresh), never opened: a
// symbolic link that someone who may write the plugin's folder (its
// author, in its subfolder) planted under a name a deploy might use
// (.echo.wasm.tmp was the one name, once) is neither followed nor
// touched. The rename then replaces path's directory entry: when path is
// itself a link, the link is replaced and what it pointed at is left as
// it was.
func stage(path string, b []byte) (string, error) {
	f, err := createFresh(filepath.Dir(path), freshPrefix(path), stagedSuffix)
	if err != nil {
		return "", err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// freshBase is the base in which createFresh writes its random numbers.
const freshBase = 36

// createFresh creates a file of a new name in dir, prefix, a random
// number (in base freshBase), then suffix, with O_EXCL: it fails rather than open anything
// already there, a symbolic link included. Its mode is 0644 less the
// umask, as the files of a deploy always had; os.CreateTemp, which is
// otherwise the same, makes 0600, which would hide a plugin file from an
// operator who is not the server's user.
func createFresh(dir, prefix, suffix string) (*os.File, error) {
	for range maxFreshNames {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), freshBase)+suffix)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("create %s*%s in %s: every name tried exists", prefix, suffix, dir)
}

// replacement is a plugin file that replaceTogether replaces: the
// module, or its manifest.
type replacement struct {
	path string
	// tmp is the new file, staged beside path; "" once it is put in place,
	// or when path is to be removed.
	tmp string
	// aside is where the old file was moved; "" while it was not, or when
	// there was none.
	aside string
	// put is set once tmp was renamed over path.
	put bool
}

// replaceTogether replaces a plugin's module and its manifest, both
// staged (a manifest with no tmp is removed), so that the module never
// stands beside a manifest it was not validated with, neither while it
// runs nor after it failed or the machine stopped part way:
//
//  1. the old module is moved aside to a hidden name, then the old
//     manifest: from here on there is no module, and a reload would load
//     none (a manifest alone waits for its plugin);
//  2. the new manifest is renamed into place (none when it is removed);
//  3. the new module is renamed into place, last.
//
// The module and the manifest may be in two folders (the module in its
// subfolder, the manifest at the top, see manifestPath): both are synced
// after steps 1 and 2, so that a crash keeps their order, and at the end,
// when the old files are removed.
//
// # Errors
//
// When a step fails, putBack puts the old files back; the error is the
// step's, with putBack's when that fails too.
func (h *Host) replaceTogether(module, mf *replacement) error {
	sync := func() error { return syncDirs(module, mf) }
	steps := []func() error{
		func() error { return h.moveAside(module) },
		func() error { return h.moveAside(mf) },
		sync,
		func() error { return h.putIn(mf) },
		sync,
		func() error { return h.putIn(module) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return errors.Join(err, h.putBack(module, mf))
		}
	}
	for _, r := range []*replacement{module, mf} {
		if r.aside == "" {
			continue
		}
		if err := os.Remove(r.aside); err != nil {
			h.log.Warn().Err(err).Str("path", r.aside).Msg("remove the replaced plugin file")
		}
	}
	return sync()
}

// syncDirs syncs the folders of the module and the manifest, once each.
func syncDirs(module, mf *replacement) error {
	dir, mfDir := filepath.Dir(module.path), filepath.Dir(mf.path)
	err := syncDir(dir)
	if mfDir != dir {
		err = errors.Join(err, syncDir(mfDir))
	}
	return err
}

// putBack undoes what replaceTogether did: first the manifest, and the old
// module only once its manifest is back, so that it never returns beside
// the new manifest. It removes the staged files not put in place.
//
// # Errors
//
// When the old manifest cannot be put back (or the old module), the old
// module stays aside, and the error names where: the plugin then has no module, and the next
// reload removes it, rather than run the old module under the new
// manifest (the other order, module first, would risk the new module
// under the old manifest instead). Either pairing was never validated; an
// outage of one plugin, reported, is the failure that grants nothing.
func (h *Host) putBack(module, mf *replacement) error {
	for _, r := range []*replacement{module, mf} {
		if r.tmp != "" {
			_ = os.Remove(r.tmp)
		}
	}
	err := h.restore(mf)
	if err == nil {
		err = h.restore(module)
	}
	if err != nil && module.aside != "" {
		err = fmt.Errorf("put back the old files: %w; the old module is left at %s, so that it does not run under a manifest it was not validated with", err, module.aside)
	}
	return errors.Join(err, syncDirs(module, mf))
}

// moveAside renames r's file, if there is one, to a new hidden name
// beside it (.<base>.<random>.old), created first, so that the rename
// replaces a file of the host's own making.
func (h *Host) moveAside(r *replacement) error {
	if _, err := os.Lstat(r.path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	f, err := createFresh(filepath.Dir(r.path), freshPrefix(r.path), asideSuffix)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	if err := h.rename(r.path, f.Name()); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	r.aside = f.Name()
	return nil
}

// putIn renames r's staged file over its path.
func (h *Host) putIn(r *replacement) error {
	if r.tmp == "" {
		return nil
	}
	if err := h.rename(r.tmp, r.path); err != nil {
		return err
	}
	r.tmp, r.put = "", true
	return nil
}

// restore puts r's old file back in place, over the new one if it was
// put; with no old file, it removes the new one.
func (h *Host) restore(r *replacement) error {
	switch {
	case r.aside != "":
		if err := h.rename(r.aside, r.path); err != nil {
			return err
		}
		r.aside = ""
	case r.put:
		if err := os.Remove(r.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	r.put = false
	return nil
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
