package main

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// TestOpenStores_clusterBoundsPluginDatabases: -plugin-db-max-bytes
// bounds each plugin's schema in cluster mode as it bounds its SQLite file
// on one node: a write past it fails with storage.ErrLimit (LIMIT_EXCEEDED
// at the ABI). It used to be applied to SQLite only.
func TestOpenStores_clusterBoundsPluginDatabases(t *testing.T) {
	ctx := context.Background()
	args := append([]string{"-database", pgtest.URL(t), "-plugin-db-max-bytes", "1048576"}, clusterKeyArgs...)
	cfg, err := parseConfig(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStores(ctx, cfg, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	h, err := st.plugins.ForPlugin(ctx, "filler")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	s := h.NewSession()
	defer s.Close()
	if _, err := s.Exec(ctx, "CREATE TABLE t (v TEXT)", nil); err != nil {
		t.Fatal(err)
	}
	q := "INSERT INTO t SELECT repeat('x', 1000) FROM generate_series(1, 3000)" // about 3.5 MB
	if _, err := s.Exec(ctx, q, nil); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("3.5 MB under -plugin-db-max-bytes 1048576: %v, want ErrLimit", err)
	}
}
