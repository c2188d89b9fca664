package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/pluginstore"
	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// flakyDatabases fails ForPlugin while fail is set, as a node's database
// does for a moment (a restart, a full pool, a lock timeout in a plugin's
// init).
type flakyDatabases struct {
	storage.Databases
	fail atomic.Bool
}

func (f *flakyDatabases) ForPlugin(ctx context.Context, name string) (storage.PluginDB, error) {
	if f.fail.Load() {
		return nil, errors.New("the database is away for a moment")
	}
	return f.Databases.ForPlugin(ctx, name)
}

// TestCluster_failedLoadIsRetried: a node that fails to load a deployed
// plugin for a passing reason loads it once the reason has passed, with
// nothing else written to the store. It used to count the store's
// generation as applied whatever failed, so that the node went on without
// the plugin, or with its old version, until the next unrelated write,
// while the deploy had answered 200 elsewhere.
func TestCluster_failedLoadIsRetried(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := pluginstore.Open(ctx, pluginstore.Config{URL: pgtest.URL(t), Schema: pg.OwnSchema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	newNode := func(dbs storage.Databases) *host.Host {
		h, err := host.New(ctx, host.Config{Store: hostStore(s), Databases: dbs, CacheDir: t.TempDir(),
			PluginDir: filepath.Join(t.TempDir(), "none"), Logger: zerolog.New(zerolog.NewTestWriter(t))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Close(context.Background()) })
		return h
	}
	open := func() storage.Databases {
		dbs, err := storage.OpenDir(t.TempDir(), storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = dbs.Close() })
		return dbs
	}
	flaky := &flakyDatabases{Databases: open()}
	a, b := newNode(open()), newNode(flaky)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		watchPluginStore(ctx, &config{WatchInterval: 20 * time.Millisecond}, s, b)
	}()
	defer func() { cancel(); <-watched }()

	wasm, err := os.ReadFile("../../host/testdata/sqlprobe.wasm")
	if err != nil {
		t.Fatal(err)
	}
	flaky.fail.Store(true)
	if _, err := a.Deploy(ctx, "probe", wasm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node b to fail to load the deploy", func() bool { return len(b.LoadErrors()) > 0 })
	flaky.fail.Store(false)
	waitFor(t, "node b to load the deploy once its database is back", func() bool { return serves(b, "probe") })
	if errs := b.LoadErrors(); len(errs) != 0 {
		t.Errorf("node b serves probe and still lists load errors: %+v", errs)
	}
}

// serves reports whether h serves a plugin called name.
func serves(h *host.Host, name string) bool {
	for _, p := range h.Plugins() {
		if p.Name == name {
			return true
		}
	}
	return false
}

// waitFor polls cond until it holds, failing t after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
