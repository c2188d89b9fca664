package storage_test

import (
	"context"
	"testing"

	"github.com/warden-rpc/warden/storage"
)

func TestDB_Migrate(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, storage.Options{})
	v1 := storage.Migration{Version: 1, Name: "kv", SQL: "CREATE TABLE warden_kv(k TEXT PRIMARY KEY, v BLOB)"}
	v2 := storage.Migration{Version: 2, Name: "kv index", SQL: "CREATE INDEX warden_kv_v ON warden_kv(v); INSERT INTO warden_kv VALUES ('a', x'01')"}
	v3 := storage.Migration{Version: 3, Name: "users", SQL: "CREATE TABLE warden_users(id INTEGER PRIMARY KEY)"}
	bad := storage.Migration{Version: 4, Name: "bad", SQL: "CREATE TABLE warden_half(a); SELECT * FROM nowhere"}
	tests := []struct {
		name    string
		ms      []storage.Migration
		wantErr bool
		want    int // rows in warden_schema_migrations afterwards
	}{
		{name: "First", ms: []storage.Migration{v1, v2}, want: 2},
		{name: "Again", ms: []storage.Migration{v1, v2}, want: 2},
		{name: "More", ms: []storage.Migration{v1, v2, v3}, want: 3},
		{name: "Failing", ms: []storage.Migration{v1, v2, v3, bad}, wantErr: true, want: 3},
		{name: "NotIncreasing", ms: []storage.Migration{v2, v1}, wantErr: true, want: 3},
		{name: "ZeroVersion", ms: []storage.Migration{{Name: "zero"}}, wantErr: true, want: 3},
		{name: "None", ms: nil, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Migrate(ctx, tt.ms)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Migrate: %v, want error %v", err, tt.wantErr)
			}
			var n int
			if err := db.Writer().QueryRowContext(ctx, "SELECT count(*) FROM warden_schema_migrations").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Errorf("%d migrations recorded, want %d", n, tt.want)
			}
		})
	}
	t.Run("Applied", func(t *testing.T) {
		var kv, half int
		w := db.Writer()
		if err := w.QueryRowContext(ctx, "SELECT count(*) FROM warden_kv").Scan(&kv); err != nil || kv != 1 {
			t.Errorf("warden_kv: %d rows, %v; want 1 (v2 ran once)", kv, err)
		}
		err := w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'warden_half'").Scan(&half)
		if err != nil || half != 0 {
			t.Errorf("warden_half exists (%d, %v): a failed migration must roll back", half, err)
		}
		var name string
		err = w.QueryRowContext(ctx, "SELECT name FROM warden_schema_migrations WHERE version = 2 AND applied_at > 0").Scan(&name)
		if err != nil || name != "kv index" {
			t.Errorf("version 2 recorded as %q (%v)", name, err)
		}
	})
}
