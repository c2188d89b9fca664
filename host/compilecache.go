package host

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/rs/zerolog"
)

// cacheIndexName is the file, in the compile cache's directory, that names
// the cache files of the versions loaded when it was written, so that a
// restart keeps them.
const cacheIndexName = "warden-cache-index.json"

// cacheFiles keeps the compile cache (Config.CacheDir) to the code of the
// plugin versions loaded: wazero writes one file per module it compiles
// and never removes one, so every refused upload and every superseded
// version left its code on disk for good. Which file is a module's is
// wazero's business; cacheFiles learns it by listing the directory before
// and after each compile (compiles run one at a time, under the reload
// lock), keeps what it learned in an index file across restarts, and
// after a reload that compiled anything removes every file that is not a
// loaded version's (prune).
type cacheFiles struct {
	dir string
	log zerolog.Logger
	// write writes the index: Host.writeAtomic, through a new file of a
	// fresh name, as the serving record is written.
	write func(path string, b []byte) error

	mu    sync.Mutex
	files map[string][]string // by cacheKey: the files its compile wrote, relative to dir
	dirty bool                // compiled since the last prune
}

// cacheKey names a compiled module: the SHA-256 of the instrumented bytes
// wazero compiled.
func cacheKey(compiled []byte) string {
	sum := sha256.Sum256(compiled)
	return hex.EncodeToString(sum[:])
}

// maxCacheIndexBytes bounds the index: some 5,000 versions' files.
const maxCacheIndexBytes = 1 << 20

// openCacheFiles returns the cacheFiles of dir, with the index the last run
// left, and write for the index (Host.writeAtomic); an index that cannot be
// read, or is not a regular file of at most maxCacheIndexBytes, is empty
// (the files it named are then removed at the first prune, and compiled
// again at the next start).
func openCacheFiles(dir string, log zerolog.Logger, write func(path string, b []byte) error) *cacheFiles {
	c := &cacheFiles{dir: dir, log: log, write: write, files: map[string][]string{}}
	if b, err := readPluginFile(filepath.Join(dir, cacheIndexName), maxCacheIndexBytes); err == nil {
		if err := json.Unmarshal(b, &c.files); err != nil {
			c.files = map[string][]string{}
		}
	}
	return c
}

// list returns the files under dir, relative to it, but the index.
func (c *cacheFiles) list() map[string]bool {
	files := map[string]bool{}
	_ = filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if rel, err := filepath.Rel(c.dir, path); err == nil && rel != cacheIndexName {
			files[rel] = true
		}
		return nil
	})
	return files
}

// compiled records the files that a compile of key wrote: those listed now
// and not in before (list's, taken before the compile). A compile that
// wrote none found its code in the cache, under the files recorded for
// key already.
func (c *cacheFiles) compiled(key string, before map[string]bool) {
	var wrote []string
	for f := range c.list() {
		if !before[f] {
			wrote = append(wrote, f)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(wrote) > 0 {
		c.files[key] = wrote
	}
	c.dirty = true
}

// prune removes every cache file that is not one of the live versions'
// (their cacheKeys), and writes the index of theirs, when anything was
// compiled since the last prune.
func (c *cacheFiles) prune(live []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty {
		return
	}
	c.dirty = false
	keep := map[string]bool{}
	files := map[string][]string{}
	for _, k := range live {
		if fs, ok := c.files[k]; ok {
			files[k] = fs
			for _, f := range fs {
				keep[f] = true
			}
		}
	}
	c.files = files
	var errs []error
	for f := range c.list() {
		if !keep[f] {
			if err := os.Remove(filepath.Join(c.dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if err := c.writeIndex(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		c.log.Warn().Err(err).Msg("compile cache: could not remove the code of versions no longer loaded")
	}
}

// writeIndex writes the index of c.files, atomically; the caller holds mu.
func (c *cacheFiles) writeIndex() error {
	b, err := json.Marshal(c.files)
	if err != nil {
		return err
	}
	return c.write(filepath.Join(c.dir, cacheIndexName), b)
}
