package host

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/warden-rpc/warden/manifest"
	"github.com/warden-rpc/warden/storage"
)

// DefaultMaxPluginBytes is the default of Config.MaxPluginBytes: 64 MiB,
// some twenty times the largest plugin the SDKs build (a Go plugin, about
// 3 MB).
const DefaultMaxPluginBytes = 64 << 20

// snapshotFile is one plugin file as read for a load, with its manifest.
type snapshotFile struct {
	path, name, version string
	wasm                []byte
	// manifest is the plugin's NAME.toml, nil when it has none.
	manifest []byte
	// key identifies what was read, the .wasm and the manifest: a reload
	// loads a plugin again when its key changed.
	key string
}

// newSnapshotFile returns the snapshot of the plugin at path.
func newSnapshotFile(path string, wasm, manifest []byte) snapshotFile {
	f := snapshotFile{path: path, name: pluginName(path), version: version(wasm), wasm: wasm, manifest: manifest}
	f.key = snapshotKey(fullHash(wasm), manifest)
	return f
}

// snapshotKey is the key of a plugin file whose .wasm has the SHA-256
// wasmSum (hex), with manifest mf (nil: none). It takes the whole hashes:
// a version's 12 hex digits (48 bits) are for showing, and a birthday
// search matches them between two modules in seconds, which would make a
// node keep serving the first when the second is deployed.
func snapshotKey(wasmSum string, mf []byte) string {
	if mf == nil {
		return wasmSum
	}
	return wasmSum + "+" + fullHash(mf)
}

// fullHash is the hex SHA-256 of b.
func fullHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// manifestPath is where the manifest of the plugin file at path, in the
// plugin folder dir, lives: at the top of dir, named after the plugin,
// wherever its module is (plugins/echo.toml for plugins/echo.wasm and for
// plugins/echo/echo.wasm). Grants are the operator's: a subfolder may be
// written by its plugin's author (see checkPlace), the top of the folder
// only by the operator, so the manifest is never read from a subfolder
// (RATIONALE.md, "Why a plugin's manifest lives at the top of the plugin
// folder").
func manifestPath(dir, path string) string {
	return filepath.Join(dir, pluginName(path)+manifest.Ext)
}

// subfolderManifestPath is, for a plugin file in a subfolder of dir, the
// file beside it that was once read as its manifest
// (plugins/echo/echo.toml); "" for a plugin file at the top of dir.
func subfolderManifestPath(dir, path string) string {
	if filepath.Dir(path) == filepath.Clean(dir) {
		return ""
	}
	return strings.TrimSuffix(path, ".wasm") + manifest.Ext
}

// checkNoSubfolderManifest refuses the plugin file at path, in dir, when a
// manifest stands beside it in its subfolder (subfolderManifestPath). Such
// a file is never read: its presence is an error rather than ignored, so
// that an operator upgrading from the layout that read it neither loses
// its grants silently nor believes them kept.
func checkNoSubfolderManifest(dir, path string) error {
	sub := subfolderManifestPath(dir, path)
	if sub == "" {
		return nil
	}
	shown := filepath.Join(filepath.Base(filepath.Dir(sub)), filepath.Base(sub))
	switch _, err := os.Lstat(sub); {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("manifest %s: %w", shown, err)
	}
	return fmt.Errorf("manifest %s: a manifest in a subfolder is not read: grants are the operator's; move it to %s", shown, manifestPath(dir, path))
}

// readManifest reads the manifest of the plugin file at path, in the
// plugin folder dir (manifestPath); nil when there is none.
//
// # Errors
//
// It fails when the manifest exists but cannot be read, is not a regular
// file or is over manifest.MaxBytes, when a manifest stands in the
// plugin file's subfolder (checkNoSubfolderManifest), and when there is
// none but one a deploy moved aside (checkNoAsideManifest).
func readManifest(dir, path string) ([]byte, error) {
	if err := checkNoSubfolderManifest(dir, path); err != nil {
		return nil, err
	}
	mp := manifestPath(dir, path)
	b, err := readPluginFile(mp, manifest.MaxBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, checkNoAsideManifest(dir, pluginName(path))
	case err != nil:
		return nil, fmt.Errorf("manifest %s: %w", filepath.Base(mp), err)
	}
	return b, nil
}

// readPluginFiles reads every plugin file in dir, each at most maxBytes. A
// file that cannot be read, is not a regular file, whose name is not a
// plugin name (storage.CheckPluginName, the deploy API's rule), or that
// is in a subfolder not named after it (checkPlace), is reported in
// failed and skipped.
//
// # Errors
//
// It fails only when dir cannot be listed.
func readPluginFiles(dir string, maxBytes int64) (files []snapshotFile, failed []LoadError, err error) {
	paths, err := pluginFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, path := range paths {
		var wasm, mf []byte
		err := checkPluginPath(dir, path)
		if err == nil {
			wasm, err = readPluginFile(path, maxBytes)
		}
		if err == nil {
			mf, err = readManifest(dir, path)
		}
		if err != nil {
			// The name is shown and counted in metrics' labels, which
			// must be UTF-8.
			name := strings.ToValidUTF8(pluginName(path), "\uFFFD")
			failed = append(failed, LoadError{Plugin: name, Path: path, Err: err, At: time.Now()})
			continue
		}
		files = append(files, newSnapshotFile(path, wasm, mf))
	}
	return files, failed, nil
}

// checkPluginPath refuses the plugin file at path, one of pluginFiles(dir),
// when its name is not a plugin name (storage.CheckPluginName) or its
// place is not one of the name's (checkPlace).
func checkPluginPath(dir, path string) error {
	if err := storage.CheckPluginName(pluginName(path)); err != nil {
		return fmt.Errorf("not a plugin name: %w", err)
	}
	return checkPlace(dir, path)
}

// checkPlace refuses a plugin file in a subfolder of dir that is not named
// after the folder: plugins/kv/kv.wasm is plugin kv's place, and
// plugins/x/kv.wasm is no plugin's. pluginFiles looks one folder deep,
// so a plugin called NAME has two places only, <dir>/NAME.wasm and
// <dir>/NAME/NAME.wasm.
//
// # Notes
//
// Without the rule a name that nothing serves nor holds (a plugin removed,
// its database kept) went to a file of the name in any subfolder: whoever
// may write one subfolder (a plugin's author, in their plugin's) could
// plant plugins/attacker/kv.wasm and run it as plugin kv, with kv's
// database. Now only who may write plugins/kv or the plugin folder itself
// can place a plugin called kv.
func checkPlace(dir, path string) error {
	folder := filepath.Dir(path)
	if folder == filepath.Clean(dir) {
		return nil
	}
	if name, sub := pluginName(path), filepath.Base(folder); name != sub {
		return fmt.Errorf("a plugin file in a subfolder must be named after its folder: %s/%s is refused; plugin %s belongs at %s.wasm or %s/%s.wasm", sub, filepath.Base(path), name, name, name, name)
	}
	return nil
}

// readPluginFile reads the plugin file at path: a regular file, or a
// symbolic link to one, of at most maxBytes. It never blocks on a FIFO or
// a device, and never reads more than maxBytes, even from a file that
// grows while it is read.
//
// # Errors
//
// It fails when the file is not a regular file, is larger than maxBytes,
// or cannot be read.
func readPluginFile(path string, maxBytes int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkPluginFile(fi, maxBytes); err != nil {
		return nil, err
	}
	// O_NONBLOCK: if the file was swapped for a FIFO since the Stat, the
	// open does not wait for a writer; the Stat of the opened file below
	// then refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkPluginFile(fi, maxBytes); err != nil {
		return nil, err
	}
	wasm, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(wasm)) > maxBytes {
		return nil, fmt.Errorf("file grew past the plugin size limit of %d bytes while it was read", maxBytes)
	}
	return wasm, nil
}

// checkPluginFile refuses a file that is not regular or is over maxBytes.
func checkPluginFile(fi fs.FileInfo, maxBytes int64) error {
	if t := fi.Mode().Type(); t != 0 {
		kind := "of an unsupported type"
		switch {
		case t&fs.ModeDir != 0:
			kind = "a directory"
		case t&fs.ModeNamedPipe != 0:
			kind = "a named pipe (FIFO)"
		case t&fs.ModeDevice != 0 || t&fs.ModeCharDevice != 0:
			kind = "a device"
		case t&fs.ModeSocket != 0:
			kind = "a socket"
		}
		return fmt.Errorf("is %s; a plugin must be a regular file", kind)
	}
	if fi.Size() > maxBytes {
		return fmt.Errorf("is %d bytes, more than the plugin size limit of %d bytes", fi.Size(), maxBytes)
	}
	return nil
}

// pluginFiles lists the *.wasm files in dir and its immediate
// subdirectories, whether or not their place is a plugin's (checkPlace);
// deeper files are not looked at. A folder in dir is a subfolder, never a
// file, whatever its name: plugins/srv.wasm/ is where plugin srv.wasm
// lives (plugins/srv.wasm/srv.wasm.wasm), not a plugin file of srv's.
func pluginFiles(dir string) ([]string, error) {
	var files []string
	for _, pattern := range []string{"*.wasm", "*/*.wasm"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, fmt.Errorf("list plugins: %w", err)
		}
		if pattern == "*.wasm" {
			m = slices.DeleteFunc(m, func(p string) bool {
				fi, err := os.Lstat(p)
				return err == nil && fi.IsDir()
			})
		}
		files = append(files, m...)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("plugin directory: %w", err)
	}
	slices.Sort(files)
	return files, nil
}

// PluginNames returns the names of the plugins in dir (every *.wasm in it,
// and in its immediate subdirectories those named after theirs: see
// checkPlace), sorted, each once, whether or not they load.
//
// # Errors
//
// An error if dir cannot be read.
func PluginNames(dir string) ([]string, error) {
	return namesPlaced(dir, true)
}

// MisplacedPluginNames returns the plugin names of the files in dir's
// subfolders that the layout rule refuses for their place
// (plugins/team/chat_admin.wasm: see checkPlace), sorted, each once. They
// are no plugins, but an operator's plugin that waits to be moved to its
// place may be among them: the start's move of old tables out of
// warden.db keeps the tables such a name would own (see
// storage.Dir.MoveTablesHolding), rather than give them to a shorter
// name's plugin.
//
// # Errors
//
// An error if dir cannot be read.
func MisplacedPluginNames(dir string) ([]string, error) {
	return namesPlaced(dir, false)
}

// namesPlaced returns the valid plugin names of the files in dir whose
// place checkPlace accepts (placed) or refuses (!placed), sorted, each
// once.
func namesPlaced(dir string, placed bool) ([]string, error) {
	files, err := pluginFiles(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for _, f := range files {
		if (checkPlace(dir, f) == nil) == placed && storage.CheckPluginName(pluginName(f)) == nil {
			names = append(names, pluginName(f))
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// checkNoAsideManifest refuses plugin name, which has no manifest in
// place, while a manifest of it that a deploy moved aside (moveAside:
// .NAME.toml.R.old at the top of dir) is there. A deploy that stopped
// between moving the old manifest aside and putting the new one in left
// the operator's grants there alone; without a manifest the plugin would
// load with every -env entry, and whoever may write its subfolder may
// put a module back. So the plugin is not loaded until the operator
// renames the file back or removes it (the start keeps it: see
// removeLeftovers), or deploys a manifest. At run time a deploy holds the
// reload lock through its steps, so a reload never sees one part way;
// only a crash, or a deploy whose putBack failed, leaves this.
func checkNoAsideManifest(dir, name string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("manifest %s%s: %w", name, manifest.Ext, err)
	}
	for _, e := range entries {
		if n, aside, ofManifest, ok := leftover(e.Name()); ok && aside && ofManifest && n == name {
			return fmt.Errorf("manifest %s%s: none in place, but a deploy that stopped part way left the plugin's manifest moved aside at %s: "+
				"the plugin is not loaded without its grants; rename that file to %s%s, remove it, or deploy a manifest",
				name, manifest.Ext, filepath.Join(dir, e.Name()), name, manifest.Ext)
		}
	}
	return nil
}
