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

// writeAtomic writes b to path through a new hidden file in the same
// folder (see stage), renamed over path, and syncs the folder: a reader
// sees the old file or the new one, never a part.
func writeAtomic(path string, b []byte) error {
	tmp, err := stage(path, b)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
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
	f, err := createFresh(filepath.Dir(path), "."+filepath.Base(path)+".", ".tmp")
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

// createFresh creates a file of a new name in dir, prefix, a random
// number, then suffix, with O_EXCL: it fails rather than open anything
// already there, a symbolic link included. Its mode is 0644 less the
// umask, as the files of a deploy always had; os.CreateTemp, which is
// otherwise the same, makes 0600, which would hide a plugin file from an
// operator who is not the server's user.
func createFresh(dir, prefix, suffix string) (*os.File, error) {
	for range maxFreshNames {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36)+suffix)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("create %s*%s in %s: every name tried exists", prefix, suffix, dir)
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
