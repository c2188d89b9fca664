package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/storage"
)

// TestMoveTables_misplacedOwnerKeepsItsTables: the start's move of old
// tables out of warden.db gives each table to the longest plugin name
// that prefixes it. A plugin file that the layout rule now refuses
// (plugins/team/chat_admin.wasm, a grouping the rule's RATIONALE section
// says stops loading at the upgrade, "its database kept" once moved) is
// still the operator's plugin chat_admin; left out of the names, its
// table chat_admin_secrets went to plugin chat, whose author then reads
// it from db/chat.db, for good.
func TestMoveTables_misplacedOwnerKeepsItsTables(t *testing.T) {
	data, plugins := t.TempDir(), t.TempDir()
	for _, p := range []string{"chat/chat.wasm", "team/chat_admin.wasm"} {
		if err := os.MkdirAll(filepath.Join(plugins, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(plugins, p), []byte("\x00asm\x01\x00\x00\x00"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(data, wardenDBFile), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Writer().Exec(`CREATE TABLE chat_admin_secrets (v TEXT); INSERT INTO chat_admin_secrets VALUES ('admin-only')`); err != nil {
		t.Fatal(err)
	}
	dbs, err := storage.OpenDir(filepath.Join(data, pluginDBDir), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := moveTables(ctx, &config{PluginDir: plugins}, db, dbs, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	if err := dbs.Close(); err != nil {
		t.Fatal(err)
	}
	chat := filepath.Join(data, pluginDBDir, "chat.db")
	if _, err := os.Stat(chat); err != nil {
		return // nothing went to chat
	}
	r, err := sql.Open("sqlite", "file:"+chat+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int
	if err := r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'chat_admin_secrets'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("chat_admin's table was moved into plugin chat's database")
	}
}
