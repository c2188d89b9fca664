package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/accounts"
	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
)

// clustered reports whether c runs a node of a cluster: -database names a
// PostgreSQL database that every node shares.
func (c *config) clustered() bool { return c.Database != "" }

// checkCluster checks the configuration of cluster mode: -database must be a
// postgres:// URL, and every key must be given, identical on every node,
// since a node never generates or writes keys there (a key generated on one
// node would be unknown to the others). It names every missing flag. The
// URL is never echoed: it may hold a password.
func (c *config) checkCluster() error {
	if !c.clustered() {
		return nil
	}
	u, err := url.Parse(c.Database)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("database: want a postgres:// or postgresql:// URL")
	}
	var missing []string
	for _, k := range []struct{ flag, value string }{
		{"http-key", c.HTTPKey},
		{"server-key", c.ServerKey},
		{"encryption-key", c.EncryptionKey},
		{"refresh-encryption-key", c.RefreshKey},
		{"console-password", c.consolePasswordOrOff()},
	} {
		if k.value == "" {
			missing = append(missing, "-"+k.flag)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("database: cluster mode needs every key given, the same on every node; missing %s (or their WARDEN_ variables)",
			strings.Join(missing, ", "))
	}
	return nil
}

// consolePasswordOrOff returns the console password, or a placeholder when
// the console is off and needs none.
func (c *config) consolePasswordOrOff() string {
	if !c.Console {
		return "off"
	}
	return c.ConsolePassword
}

// clusterKeys returns the configured keys of a cluster node; checkCluster
// made sure that each is set. Nothing is read from or written to the data
// directory.
func clusterKeys(c *config) *keys {
	return &keys{ServerKey: c.ServerKey, HTTPKey: c.HTTPKey, EncryptionKey: c.EncryptionKey, RefreshKey: c.RefreshKey, ConsolePassword: c.ConsolePassword}
}

// stores are the databases run opens: Warden's own tables (accounts and
// sessions), the Feed of revocations between nodes (cluster mode only), and
// the plugins' databases.
type stores struct {
	own     accounts.Store
	feed    accounts.Feed
	plugins storage.Databases
	close   func() error
}

// openStores opens SQLite files under the data directory on one node
// (openStorage), or, in cluster mode, one PostgreSQL database for
// everything: Warden's tables in the schema pg.OwnSchema, which no plugin
// role reaches, and each plugin's in a schema of its own (storage/pg).
//
// # Errors
//
// An error if a database cannot be opened or prepared.
func openStores(ctx context.Context, cfg *config, log zerolog.Logger, obs storage.CommitObserver) (*stores, error) {
	if !cfg.clustered() {
		db, dbs, err := openStorage(ctx, cfg, log, obs)
		if err != nil {
			return nil, err
		}
		return &stores{own: db, plugins: dbs, close: func() error { return errors.Join(dbs.Close(), db.Close()) }}, nil
	}
	own, err := pg.OpenOwn(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	dbs, err := pg.Open(ctx, cfg.Database, pg.Options{MaxBytes: cfg.MaxPluginDBBytes})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open plugin databases: %w", err), own.Close())
	}
	log.Info().Str("schema", pg.OwnSchema).Msg("cluster mode: accounts, sessions and plugin data in PostgreSQL; the data directory holds only the compilation cache")
	return &stores{own: own, feed: own, plugins: dbs, close: func() error { return errors.Join(dbs.Close(), own.Close()) }}, nil
}
