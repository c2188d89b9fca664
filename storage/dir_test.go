package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckPluginName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"kv", true}, {"My_Plugin-2.1", true}, {"a", true},
		{"", false}, {".hidden", false}, {"-flag", false}, {"a/b", false}, {`a\b`, false},
		{"..", false}, {"a b", false}, {"é", false}, {"a\x00", false}, {string(make([]byte, 64)), false},
	}
	for _, tt := range tests {
		err := CheckPluginName(tt.name)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBadName)) {
			t.Errorf("CheckPluginName(%q) = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestDir_ForPlugin(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "db")
	d, err := OpenDir(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	exec := func(db PluginDB, q string) {
		t.Helper()
		s := db.NewSession()
		defer s.Close()
		if _, err := s.Exec(ctx, q, nil); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	count := func(db PluginDB, table string) (int64, error) {
		s := db.NewSession()
		defer s.Close()
		rows, err := s.Query(ctx, "SELECT count(*) FROM "+table, nil)
		if err != nil {
			return 0, err
		}
		return rows.Values[0][0].(int64), nil
	}
	t.Run("OK", func(t *testing.T) {
		a1, err := d.ForPlugin(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		exec(a1, "CREATE TABLE a_t (x)")
		exec(a1, "INSERT INTO a_t VALUES (1)")
		a2, err := d.ForPlugin(ctx, "a") // a second version of the plugin
		if err != nil {
			t.Fatal(err)
		}
		if n, err := count(a2, "a_t"); err != nil || n != 1 {
			t.Fatalf("second handle sees %d, %v; want the same database", n, err)
		}
		b, err := d.ForPlugin(ctx, "b")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := count(b, "a_t"); err == nil {
			t.Fatal("plugin b reads plugin a's table")
		}
		for _, h := range []PluginDB{a1, a2, a2, b} { // Close is idempotent
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if len(d.open) != 0 {
			t.Fatalf("%d databases still open after their last handle closed", len(d.open))
		}
		a3, err := d.ForPlugin(ctx, "a") // reopened: the file was kept
		if err != nil {
			t.Fatal(err)
		}
		defer a3.Close()
		if n, err := count(a3, "a_t"); err != nil || n != 1 {
			t.Fatalf("reopened database has %d rows, %v", n, err)
		}
		if _, err := os.Stat(filepath.Join(root, "a.db")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrBadName", func(t *testing.T) {
		for _, name := range []string{"../warden", ".x", "a/b", ""} {
			if _, err := d.ForPlugin(ctx, name); !errors.Is(err, ErrBadName) {
				t.Errorf("ForPlugin(%q) = %v, want ErrBadName", name, err)
			}
		}
	})
	t.Run("ErrClosed", func(t *testing.T) {
		h, err := d.ForPlugin(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := h.NewSession().Exec(ctx, "CREATE TABLE c_t (x)", nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("session after Dir.Close: %v, want ErrClosed", err)
		}
		if _, err := d.ForPlugin(ctx, "c"); !errors.Is(err, ErrClosed) {
			t.Fatalf("ForPlugin after Close: %v, want ErrClosed", err)
		}
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
