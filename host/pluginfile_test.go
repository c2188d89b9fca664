package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// reloadWithin runs a reload and fails the test when it does not return
// within a generous bound.
func reloadWithin(t *testing.T, h *Host, bound time.Duration) *ReloadResult {
	t.Helper()
	type answer struct {
		res *ReloadResult
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := h.Reload(context.Background())
		done <- answer{res, err}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			t.Fatal(a.err)
		}
		return a.res
	case <-time.After(bound):
		t.Fatalf("reload did not return within %s", bound)
		return nil
	}
}

// TestHost_Reload_hostileFiles drops files that are not plugins under
// *.wasm names: each is refused, named, within seconds, without reading it
// whole, and the plugin beside it keeps serving.
func TestHost_Reload_hostileFiles(t *testing.T) {
	tests := []struct {
		name, file, want string
		make             func(path string) error
	}{
		{"ErrFIFO", "fifo", "is a named pipe (FIFO)", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"ErrSymlinkToDevZero", "zero", "is a device", func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"ErrDirectory", "dir", "is a directory", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"ErrHugeSparseFile", "huge", "is 1073741824 bytes, more than the plugin size limit of 67108864 bytes", func(p string) error {
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Truncate(1 << 30)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			deploy(t, dir, "ver", fixture(t, "reload/ver_v1.wasm"))
			h := newTestHost(t, dir, nil)
			path := filepath.Join(dir, tt.file+".wasm")
			if err := tt.make(path); err != nil {
				t.Fatal(err)
			}
			res := reloadWithin(t, h, 10*time.Second)
			if len(res.Failed) != 1 || res.Failed[0].Path != path || !strings.Contains(res.Failed[0].Err.Error(), tt.want) {
				t.Fatalf("reload: %+v, want %s refused: %q", res, path, tt.want)
			}
			if out, err := h.Call(context.Background(), &Request{ID: "ver"}); err != nil || string(out.Output) != "v1" {
				t.Fatalf("ver: %q %v", out.Output, err)
			}
		})
	}
}

// TestHost_New_hostileFiles starts a host over a FIFO and a symlink to
// /dev/zero: New returns, and lists both.
func TestHost_New_hostileFiles(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.wasm")); err != nil {
		t.Fatal(err)
	}
	done := make(chan *Host, 1)
	go func() { done <- newTestHost(t, dir, nil) }()
	select {
	case h := <-done:
		if errs := h.LoadErrors(); len(errs) != 2 {
			t.Fatalf("LoadErrors() = %+v, want the FIFO and the symlink", errs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("New did not return within 10s")
	}
}

// TestReadPluginFile checks the size limit at its edge and that a symlink
// to a regular file is read.
func TestReadPluginFile(t *testing.T) {
	dir := t.TempDir()
	wasm := fixture(t, "reload/ver_v1.wasm")
	path := filepath.Join(dir, "ver.wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.wasm")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	n := int64(len(wasm))
	t.Run("OK", func(t *testing.T) {
		for _, p := range []string{path, link} {
			if b, err := readPluginFile(p, n); err != nil || int64(len(b)) != n {
				t.Fatalf("readPluginFile(%s, %d) = %d bytes, %v", p, n, len(b), err)
			}
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		if _, err := readPluginFile(link, n-1); err == nil || !strings.Contains(err.Error(), "more than the plugin size limit") {
			t.Fatalf("readPluginFile() error = %v", err)
		}
	})
}
