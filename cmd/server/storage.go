package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/storage"
)

// minPluginDBMemory is the least -plugin-db-max-memory, 8 MiB: a budget
// that small already refuses a plugin's ordinary statements while its
// connections' page caches are full (2 MB of pages, 4 MiB of memory, each),
// so a smaller one is a slip of a digit rather than a choice.
const minPluginDBMemory = 8 << 20

// Where the databases live under the data directory: Warden's own tables
// in warden.db, each plugin's in db/<plugin>.db.
const (
	wardenDBFile = "warden.db"
	pluginDBDir  = "db"
)

// openStorage opens Warden's database and the plugin databases' directory
// under cfg.DataDir, and moves the tables of the plugins in cfg.PluginDir
// that an older layout kept in Warden's database into their own files (see
// storage.Dir.MoveTables). What stays behind is logged, at every start.
//
// # Errors
//
// An error if either cannot be opened or a move fails.
func openStorage(ctx context.Context, cfg *config, log zerolog.Logger, obs storage.CommitObserver) (*storage.DB, *storage.Dir, error) {
	db, err := storage.Open(ctx, filepath.Join(cfg.DataDir, wardenDBFile), storage.Options{Observer: obs})
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	dbs, err := storage.OpenDir(filepath.Join(cfg.DataDir, pluginDBDir), storage.Options{Observer: obs, MaxBytes: cfg.MaxPluginDBBytes, MaxTempBytes: abi.MaxDBTempFileBytes, MaxMemoryBytes: cfg.MaxPluginDBMemory})
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("open plugin databases: %w", err), db.Close())
	}
	if err := moveTables(ctx, cfg, db, dbs, log); err != nil {
		return nil, nil, errors.Join(err, dbs.Close(), db.Close())
	}
	return db, dbs, nil
}

// moveTables moves the plugins' tables out of db and logs what it did.
func moveTables(ctx context.Context, cfg *config, db *storage.DB, dbs *storage.Dir, log zerolog.Logger) error {
	names, err := host.PluginNames(cfg.PluginDir)
	if err != nil {
		return fmt.Errorf("move plugin tables: %w", err)
	}
	// A plugin file in a subfolder of another name is refused, but may be
	// the operator's, to be moved: its tables wait for it.
	held, err := host.MisplacedPluginNames(cfg.PluginDir)
	if err != nil {
		return fmt.Errorf("move plugin tables: %w", err)
	}
	rep, err := dbs.MoveTablesHolding(ctx, db, names, held)
	for _, m := range rep.Moved {
		log.Info().Str("table", m.Name).Str("plugin", m.Plugin).Msg("moved a plugin's table out of warden.db into its own database")
	}
	for _, k := range rep.Kept {
		log.Warn().Str("table", k.Name).Str("plugin", k.Plugin).Str("reason", k.Reason).
			Msg("a table in warden.db that is not Warden's was left there; no plugin can reach it")
	}
	if err != nil {
		return fmt.Errorf("move plugin tables: %w", err)
	}
	return nil
}
