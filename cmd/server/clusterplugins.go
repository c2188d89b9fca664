package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/pluginstore"
	"github.com/warden-rpc/warden/storage/pg"
)

// defaultStorePoll is how often a cluster node reads the plugin store's
// generation when -watch is 0: notifications reach it at once, and the
// poll only catches one that was lost.
const defaultStorePoll = time.Second

// maxLoadRetry bounds the wait between two attempts of a node to load the
// store's plugins when some failed: the wait doubles from the poll
// interval up to it.
const maxLoadRetry = time.Minute

// openPluginStore opens the cluster's plugin store in Warden's own schema
// of cfg.Database; it returns nil outside cluster mode.
//
// # Errors
//
// An error when the database cannot be reached or the tables created.
func openPluginStore(ctx context.Context, cfg *config, log zerolog.Logger) (*pluginstore.Store, error) {
	if !cfg.clustered() {
		return nil, nil
	}
	s, err := pluginstore.Open(ctx, pluginstore.Config{
		URL: cfg.Database, Schema: pg.OwnSchema, MaxPluginBytes: cfg.MaxPluginBytes, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// servingFileName is host.Config.ServingFile's name in the data directory.
const servingFileName = "serving.json"

// hostServingFile is host.Config.ServingFile: the record of the plugin
// files that serve, under the data directory, so that they come first at
// the next start; none in cluster mode, where the folder is not read.
func hostServingFile(cfg *config) string {
	if cfg.clustered() {
		return ""
	}
	return filepath.Join(cfg.DataDir, servingFileName)
}

// hostStore is the host's view of s: nil outside cluster mode.
func hostStore(s *pluginstore.Store) host.PluginStore {
	if s == nil {
		return nil
	}
	return storeAdapter{s}
}

// watchPluginStore reloads h whenever the plugin store's generation moves,
// until ctx is done; it does nothing outside cluster mode.
func watchPluginStore(ctx context.Context, cfg *config, s *pluginstore.Store, h *host.Host) {
	if s == nil {
		return
	}
	poll := cfg.WatchInterval
	if poll <= 0 {
		poll = defaultStorePoll
	}
	// Since -1: the first read reloads, a no-op unless the store changed
	// after the host loaded it, which would otherwise go unnoticed until
	// the next change. A generation with a plugin that failed to load is
	// not counted as applied: the failure may pass (the database was away
	// for a moment, a plugin's init timed out), so the node tries again,
	// after a wait that doubles up to maxLoadRetry, since a failure that
	// lasts (a broken upload) costs a compile and an init each time. The
	// host logs a load failure once, not at every attempt.
	wait, next := time.Duration(0), time.Time{}
	s.Watch(ctx, poll, -1, func(int64) error {
		if time.Now().Before(next) {
			return pluginstore.ErrRetryLater
		}
		res, err := h.Reload(ctx)
		if err != nil {
			return err
		}
		if len(res.Failed) == 0 {
			wait = 0
			return nil
		}
		wait = min(max(2*wait, poll), maxLoadRetry)
		next = time.Now().Add(wait)
		return fmt.Errorf("%w: %d plugins failed to load", pluginstore.ErrRetryLater, len(res.Failed))
	})
}

// storeAdapter fits a pluginstore.Store to host.PluginStore, mapping the
// store's sentinels to the host's.
type storeAdapter struct{ s *pluginstore.Store }

// Guard: storeAdapter fits the host's interface.
var _ host.PluginStore = storeAdapter{}

func (a storeAdapter) List(ctx context.Context) ([]host.StoredPlugin, int64, error) {
	list, gen, err := a.s.List(ctx)
	if err != nil {
		return nil, 0, mapStoreError(err)
	}
	out := make([]host.StoredPlugin, len(list))
	for i, p := range list {
		out[i] = host.StoredPlugin{Name: p.Name, SHA256: p.SHA256, Size: p.Size}
		if p.Manifest != nil {
			out[i].Manifest = []byte(*p.Manifest)
		}
	}
	return out, gen, nil
}

func (a storeAdapter) Get(ctx context.Context, name string) ([]byte, error) {
	p, err := a.s.Get(ctx, name)
	return p.Wasm, mapStoreError(err)
}

func (a storeAdapter) Put(ctx context.Context, gen int64, plugins []host.StoredPlugin) error {
	ups := make([]pluginstore.Upload, len(plugins))
	for i, p := range plugins {
		ups[i] = pluginstore.Upload{Name: p.Name, Wasm: p.Wasm}
		if p.Manifest != nil {
			mf := string(p.Manifest)
			ups[i].Manifest = &mf
		}
	}
	_, err := a.s.Put(ctx, gen, ups...)
	return mapStoreError(err)
}

func (a storeAdapter) Delete(ctx context.Context, name string) error {
	_, err := a.s.Delete(ctx, name)
	return mapStoreError(err)
}

// mapStoreError wraps the store's sentinels with the host's, and an
// unreachable database with host.ErrStoreUnavailable.
func mapStoreError(err error) error {
	switch {
	case pg.Unavailable(err):
		return fmt.Errorf("%w: %w", host.ErrStoreUnavailable, err)
	case errors.Is(err, pluginstore.ErrNotFound):
		return fmt.Errorf("%w: %w", host.ErrNoPlugin, err)
	case errors.Is(err, pluginstore.ErrStale):
		return fmt.Errorf("%w: %w", host.ErrStoreChanged, err)
	}
	return err
}
