package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/storage"
)

// Where the databases live under the data directory: Warden's own tables
// in warden.db, each plugin's in db/<plugin>.db.
const (
	wardenDBFile = "warden.db"
	pluginDBDir  = "db"
)

// openStorage opens Warden's database and the plugin databases' directory
// under cfg.DataDir.
//
// # Errors
//
// An error if either cannot be opened.
func openStorage(ctx context.Context, cfg *config, log zerolog.Logger) (*storage.DB, *storage.Dir, error) {
	db, err := storage.Open(ctx, filepath.Join(cfg.DataDir, wardenDBFile), storage.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	dbs, err := storage.OpenDir(filepath.Join(cfg.DataDir, pluginDBDir), storage.Options{})
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("open plugin databases: %w", err), db.Close())
	}
	_ = log
	return db, dbs, nil
}
