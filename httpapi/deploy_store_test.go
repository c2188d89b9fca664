package httpapi

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
)

// downStore is a cluster's plugin store that holds no plugin and, once
// down is set, cannot be reached: every call fails as the adapter over
// PostgreSQL fails when the server is away.
type downStore struct{ down atomic.Bool }

func (s *downStore) err(op string) error {
	if s.down.Load() {
		return fmt.Errorf("%s: connection refused: %w", op, host.ErrStoreUnavailable)
	}
	return nil
}

// List answers generation 1, so that the host does not seed the store.
func (s *downStore) List(context.Context) ([]host.StoredPlugin, int64, error) {
	return nil, 1, s.err("list")
}

func (s *downStore) Get(_ context.Context, name string) ([]byte, error) {
	if err := s.err("get"); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("get %s: %w", name, host.ErrNoPlugin)
}

func (s *downStore) Put(context.Context, int64, []host.StoredPlugin) error { return s.err("put") }

func (s *downStore) Delete(_ context.Context, name string) error {
	if err := s.err("delete"); err != nil {
		return err
	}
	return fmt.Errorf("delete %s: %w", name, host.ErrNoPlugin)
}

// storeServer starts a host in cluster mode on store, with an empty
// plugin folder, and a server over it; it returns the server and the
// bytes of the ver_v1 fixture to upload.
func storeServer(t *testing.T, store host.PluginStore) (*Server, []byte) {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t))
	h, err := host.New(context.Background(), host.Config{PluginDir: t.TempDir(), Store: store, Logger: log, CheckRoutes: CheckPluginRoutes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	wasm, err := os.ReadFile(filepath.Join("..", "host", "testdata", "reload", "ver_v1.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, Config{Caller: h, Routes: h, Admin: h, Logger: log}), wasm
}

// changedStore is a cluster's plugin store that another node writes
// before each of this node's writes: every Put finds the generation moved.
type changedStore struct{ downStore }

func (s *changedStore) Put(context.Context, int64, []host.StoredPlugin) error {
	return fmt.Errorf("put: generation moved: %w", host.ErrStoreChanged)
}

// TestServer_deployPlugin_storeChanged: a deploy that lost every race
// against other nodes' writes answers 409 with code 10 (ABORTED), to
// retry, not 500.
func TestServer_deployPlugin_storeChanged(t *testing.T) {
	s, wasm := storeServer(t, &changedStore{})
	res := do(t, s, "PUT", "/_warden/plugins/ver?http_key="+testHTTPKey, nil, string(wasm))
	if res.status != 409 || !strings.Contains(res.body, `"code":10`) {
		t.Fatalf("PUT = %d %s; want 409 with code 10", res.status, res.body)
	}
}

// TestServer_deployPlugin_storeUnavailable: in cluster mode, while the
// plugin store cannot be reached, PUT, DELETE and POST (reload) answer 503
// with code 14, retryable, not 500.
func TestServer_deployPlugin_storeUnavailable(t *testing.T) {
	store := &downStore{}
	s, wasm := storeServer(t, store)
	store.down.Store(true)
	for _, tt := range []struct{ name, method, path, body string }{
		{"PUT", "PUT", "/_warden/plugins/ver", string(wasm)},
		{"DELETE", "DELETE", "/_warden/plugins/ver", ""},
		{"POST", "POST", "/_warden/plugins", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, s, tt.method, tt.path+"?http_key="+testHTTPKey, nil, tt.body)
			if res.status != 503 || !strings.Contains(res.body, `"code":14`) {
				t.Fatalf("%s %s = %d %s; want 503 with code 14", tt.method, tt.path, res.status, res.body)
			}
		})
	}
}
