package httpapi

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
)

// startHostServer starts a real host over the given host/testdata fixtures
// and a server that serves its RPCs, routes and admin API.
func startHostServer(t *testing.T, fixtures ...string) *Server {
	t.Helper()
	dir := t.TempDir()
	for _, f := range fixtures {
		copyFixture(t, f, filepath.Join(dir, filepath.Base(f)))
	}
	return startHostServerDir(t, dir, nil)
}

// copyFixture copies a host/testdata fixture to dst.
func copyFixture(t *testing.T, fixture, dst string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "host", "testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startHostServerDir starts a real host over the plugins in dir and a
// server over it, both logging to logs (nil: the test's log).
func startHostServerDir(t *testing.T, dir string, logs io.Writer) *Server {
	t.Helper()
	if logs == nil {
		logs = zerolog.NewTestWriter(t)
	}
	log := zerolog.New(logs).Level(zerolog.DebugLevel)
	h, err := host.New(context.Background(), host.Config{PluginDir: dir, Logger: log, CheckRoutes: CheckPluginRoutes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return serve(t, Config{Caller: h, Routes: h, Admin: h, Logger: log})
}

// TestServer_pluginRoutes_reserved sends requests under every reserved
// prefix, with every method, to a server whose plugin registered patterns
// that begin with parameters: none may reach the plugin.
func TestServer_pluginRoutes_reserved(t *testing.T) {
	tests := []struct {
		fixture, own string
		reserved     []string
	}{
		{"catchall.wasm", "/x/y/z/w", []string{"/v2/rpc/a/b", "/v2/account/authenticate/custom", "/_warden/plugins/x/y",
			"/healthcheck/a/b/c", "/_bench/a/b/c", "/V2/rpc/a/b", "/v2//rpc/a", "/x/../v2/rpc/a/b"}},
		{"secret.wasm", "/x/rpc/secret", []string{"/v2/rpc/secret", "/_warden/rpc/secret", "/V2/rpc/secret", "/healthcheck/rpc/secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			s := startHostServer(t, tt.fixture)
			if res := do(t, s, "PUT", tt.own, nil, ""); res.status != 200 || res.body != "plugin" {
				t.Fatalf("PUT %s: %d %q, want the plugin's answer", tt.own, res.status, res.body)
			}
			for _, p := range tt.reserved {
				for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
					res := do(t, s, m, p, nil, "")
					if res.body == "plugin" || res.header.Get("Warden-Plugin") != "" {
						t.Errorf("%s %s reached the plugin: %d %q", m, p, res.status, res.body)
					}
				}
			}
		})
	}
}
