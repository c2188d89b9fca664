package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/pluginstore"
	"github.com/warden-rpc/warden/storage/pg"
	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// padded returns wasm with a custom section "pad" of n zero bytes
// appended: the same code, n bytes larger.
func padded(wasm []byte, n int) []byte {
	uleb := func(b []byte, v uint64) []byte {
		for ; v >= 0x80; v >>= 7 {
			b = append(b, byte(v)|0x80)
		}
		return append(b, byte(v))
	}
	body := append(uleb(nil, 3), "pad"...)
	body = append(body, make([]byte, n)...)
	out := append(append([]byte{}, wasm...), 0)
	return append(uleb(out, uint64(len(body))), body...)
}

// TestStore_oversizedPluginIsOneLoadError: a node whose -max-plugin-bytes
// is smaller than a stored plugin (deployed through a node with a larger
// one, as during a rolling change of the flag) lists that plugin among its
// load errors and serves the others. It used to read the plugin's row
// through a pool that cannot take a message that large: the read failed,
// and with it the node's whole reload (no later deploy or removal of any
// plugin applied) and its start.
func TestStore_oversizedPluginIsOneLoadError(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	node := func(limit int64) host.Config {
		s, err := pluginstore.Open(ctx, pluginstore.Config{URL: url, Schema: pg.OwnSchema, MaxPluginBytes: limit})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return host.Config{Store: hostStore(s), CacheDir: t.TempDir(), MaxPluginBytes: limit,
			PluginDir: filepath.Join(t.TempDir(), "none"), Logger: zerolog.New(zerolog.NewTestWriter(t))}
	}
	a, err := host.New(ctx, node(16<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	smallCfg := node(1 << 20)
	b, err := host.New(ctx, smallCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)

	v1, err := os.ReadFile("../../host/testdata/reload/ver_v1.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Deploy(ctx, "big", padded(v1, 3<<20)); err != nil {
		t.Fatalf("deploy big through the node with the larger limit: %v", err)
	}
	probe, err := os.ReadFile("../../host/testdata/sqlprobe.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Deploy(ctx, "probe", probe); err != nil {
		t.Fatalf("deploy probe: %v", err)
	}
	check := func(h *host.Host, res *host.ReloadResult) {
		t.Helper()
		var names []string
		for _, p := range h.Plugins() {
			names = append(names, p.Name)
		}
		if !slices.Contains(names, "probe") || slices.Contains(names, "big") {
			t.Errorf("the smaller node serves %v, want probe and not big", names)
		}
		failed := false
		for _, f := range res.Failed {
			failed = failed || f.Plugin == "big"
		}
		if !failed {
			t.Errorf("big is not among the load errors: %+v", res.Failed)
		}
	}
	res, err := b.Reload(ctx)
	if err != nil {
		t.Fatalf("the smaller node's reload failed as a whole: %v", err)
	}
	check(b, res)
	c, err := host.New(ctx, smallCfg)
	if err != nil {
		t.Fatalf("a node with the smaller limit cannot start: %v", err)
	}
	defer c.Close(ctx)
	if res, err = c.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	check(c, res)
}
