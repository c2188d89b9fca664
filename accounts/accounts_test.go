package accounts

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	db := openDB(t)
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"OK", Config{DB: db, EncryptionKey: testEncKey, RefreshKey: testRefreshKey}, ""},
		{"ErrNoDB", Config{EncryptionKey: testEncKey, RefreshKey: testRefreshKey}, "DB is required"},
		{"ErrNoRefreshKey", Config{DB: db, EncryptionKey: testEncKey}, "RefreshKey are required"},
		{"ErrSameKeys", Config{DB: db, EncryptionKey: testEncKey, RefreshKey: testEncKey}, "must differ"},
		{"ErrNegativeExpiry", Config{DB: db, EncryptionKey: testEncKey, RefreshKey: testRefreshKey, SessionExpiry: -1}, "negative"},
		{"ErrTinyExpiry", Config{DB: db, EncryptionKey: testEncKey, RefreshKey: testRefreshKey, RefreshExpiry: time.Millisecond}, "at least a second"},
		{"ErrBcryptCost", Config{DB: db, EncryptionKey: testEncKey, RefreshKey: testRefreshKey, BcryptCost: 99}, "BcryptCost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(context.Background(), tt.cfg)
			if tt.wantErr == "" {
				if err != nil || s.cfg.SessionExpiry != DefaultSessionExpiry || s.cfg.RefreshExpiry != DefaultRefreshExpiry {
					t.Fatalf("New = %v, %v; want defaults applied", s, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
