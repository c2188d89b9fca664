package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Dir is the SQLite engine of Databases: a directory with one database file
// per plugin, <dir>/<plugin>.db, each a DB of its own (its writer, group
// commit and readers). A plugin's file is opened when the plugin first asks
// for it and closed when its last handle is released; files are never
// deleted. It is safe for concurrent use.
type Dir struct {
	dir  string
	opts Options

	mu     sync.Mutex
	open   map[string]*dirEntry // plugin name -> its open database
	closed bool
}

// dirEntry is one open plugin database and its count of handles.
type dirEntry struct {
	db   *DB
	refs int
}

// OpenDir opens the plugin databases' directory dir, creating it (mode
// 0700) if needed. Each plugin's database is opened with opts.
//
// # Errors
//
// An error if an option is negative or dir cannot be created.
func OpenDir(dir string, opts Options) (*Dir, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return &Dir{dir: abs, opts: opts, open: map[string]*dirEntry{}}, nil
}

// Engine returns "sqlite".
func (d *Dir) Engine() string { return "sqlite" }

// Path returns the file of plugin's database.
//
// # Errors
//
// ErrBadName when plugin is not a valid name (see CheckPluginName).
func (d *Dir) Path(plugin string) (string, error) {
	if err := CheckPluginName(plugin); err != nil {
		return "", err
	}
	return filepath.Join(d.dir, plugin+".db"), nil
}

// ForPlugin returns plugin's database, opening (or creating) its file on
// first use. Every call returns a new handle on the same DB; release each
// with Close.
//
// # Errors
//
// ErrBadName, ErrClosed once the Dir is closed, or Open's error.
func (d *Dir) ForPlugin(ctx context.Context, plugin string) (PluginDB, error) {
	db, err := d.acquire(ctx, plugin)
	if err != nil {
		return nil, err
	}
	return &dirHandle{d: d, name: plugin, db: db}, nil
}

// acquire returns plugin's open DB and counts a handle on it.
func (d *Dir) acquire(ctx context.Context, plugin string) (*DB, error) {
	path, err := d.Path(plugin)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("plugin %s database: %w", plugin, ErrClosed)
	}
	e := d.open[plugin]
	if e == nil {
		db, err := Open(ctx, path, d.opts)
		if err != nil {
			return nil, fmt.Errorf("plugin %s database: %w", plugin, err)
		}
		e = &dirEntry{db: db}
		d.open[plugin] = e
	}
	e.refs++
	return e.db, nil
}

// release drops a handle on plugin's DB and closes it with the last one.
func (d *Dir) release(plugin string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.open[plugin]
	if e == nil {
		return nil // closed with the Dir
	}
	if e.refs--; e.refs > 0 {
		return nil
	}
	delete(d.open, plugin)
	return e.db.Close()
}

// Close closes every open plugin database; handles still held fail with
// ErrClosed from then on. It is idempotent.
//
// # Errors
//
// The databases' close errors.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	var errs []error
	for name, e := range d.open {
		errs = append(errs, e.db.Close())
		delete(d.open, name)
	}
	return errors.Join(errs...)
}

// dirHandle is one handle on a plugin's database.
type dirHandle struct {
	d        *Dir
	name     string
	db       *DB
	released sync.Once
}

// NewSession returns a Session on the plugin's database.
func (h *dirHandle) NewSession() PluginSession { return h.db.NewSession() }

// Close releases the handle; it is idempotent.
func (h *dirHandle) Close() error {
	var err error
	h.released.Do(func() { err = h.d.release(h.name) })
	return err
}
