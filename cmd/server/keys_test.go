package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServer_generatedKeys starts with no keys configured: the server must
// generate them, store them mode 0600, never log them, and reuse them.
func TestServer_generatedKeys(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"-data", data, "-plugins", "../../plugins"}
	s := startServer(t, args...)
	path := filepath.Join(data, keysFile)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("%s has mode %o, want 600", path, perm)
	}
	var k keys
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"server": k.ServerKey, "http": k.HTTPKey, "encryption": k.EncryptionKey, "refresh": k.RefreshKey} {
		if len(v) < 40 || strings.Contains(v, "default") {
			t.Errorf("%s key %q is not a strong generated key", name, v)
		}
		if strings.Contains(s.logs.String(), v) {
			t.Errorf("the log contains the %s key", name)
		}
	}
	if res := do(t, "POST", s.URL+"/v2/rpc/echo?unwrap&http_key="+k.HTTPKey, "x", nil); res.Status != 200 {
		t.Fatalf("generated http key refused: %d %s", res.Status, res.Body)
	}
	s.stop(t)

	s = startServer(t, args...)
	if res := do(t, "POST", s.URL+"/v2/rpc/echo?unwrap&http_key="+k.HTTPKey, "x", nil); res.Status != 200 {
		t.Fatalf("key not reused after restart: %d %s", res.Status, res.Body)
	}
	if res := do(t, "POST", s.URL+"/v2/rpc/echo?unwrap&http_key=defaulthttpkey", "x", nil); res.Status != 401 {
		t.Fatalf("defaulthttpkey accepted: %d", res.Status)
	}
}

func TestParseConfig(t *testing.T) {
	env := map[string]string{"WARDEN_ADDR": "127.0.0.1:9999", "WARDEN_HTTP_KEY": "from-env", "WARDEN_ENV": "A=1,B=2"}
	getenv := func(k string) string { return env[k] }
	t.Run("OK", func(t *testing.T) {
		c, err := parseConfig([]string{"-http-key", "from-flag", "-log-format", "console"}, getenv, os.Stderr)
		if err != nil {
			t.Fatal(err)
		}
		if c.Addr != "127.0.0.1:9999" || c.HTTPKey != "from-flag" || c.Env["B"] != "2" || c.LogFormat != "console" {
			t.Fatalf("got %+v", c)
		}
	})
	tests := []struct {
		name string
		args []string
	}{
		{"ErrLogFormat", []string{"-log-format", "xml"}},
		{"ErrTimeout", []string{"-call-timeout", "-1s"}},
		{"ErrEnv", []string{"-env", "novalue"}},
		{"ErrArgs", []string{"extra"}},
		{"ErrMemory", []string{"-max-memory", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseConfig(tt.args, getenv, &strings.Builder{}); err == nil {
				t.Fatal("parseConfig succeeded, want an error")
			}
		})
	}
	t.Run("ErrLogLevel", func(t *testing.T) {
		if _, err := newLogger(&config{LogLevel: "trace"}, os.Stdout); err == nil {
			t.Fatal("newLogger(trace) succeeded, want an error")
		}
	})
}
