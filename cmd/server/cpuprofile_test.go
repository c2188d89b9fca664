package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServer_cpuProfile: -cpu-profile writes a CPU profile of the run,
// complete when the server stops: gzip-compressed protobuf, as pprof and
// the profile-guided build read it.
func TestServer_cpuProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	s := startServer(t, append(dataArgs(t, fixtureDir(t, "../../plugins/echo/echo.wasm")), "-cpu-profile", path)...)
	for range 50 {
		if res := do(t, "POST", s.URL+"/v2/rpc/echo?unwrap&http_key="+testHTTPKey, `{"a":1}`, nil); res.Status != http.StatusOK {
			t.Fatalf("echo: status %d %s", res.Status, res.Body)
		}
	}
	s.stop(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 100 || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Fatalf("profile of %d bytes, starting %x: want a gzip-compressed profile", len(b), b[:min(len(b), 4)])
	}
}

// TestServer_cpuProfileBadPath: a profile that cannot be created stops the
// server from starting, with the path in the error.
func TestServer_cpuProfileBadPath(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "missing", "cpu.pprof")
	args := append([]string{"-addr", "127.0.0.1:0", "-cpu-profile", bad}, dataArgs(t, fixtureDir(t, "../../plugins/echo/echo.wasm"))...)
	err := run(t.Context(), args, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "cpu profile") || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("run with -cpu-profile %s: %v, want a cpu profile error", bad, err)
	}
}
