package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServer_generatedKeys starts with no keys configured: the server must
// generate them, store them mode 0600, never log them, and reuse them.
func TestServer_generatedKeys(t *testing.T) {
	data := newDataDir(t)
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
	env := map[string]string{"WARDEN_ADDR": "127.0.0.1:9999", "WARDEN_HTTP_KEY": "from-env", "WARDEN_ENV": "A=1,5\n\nB=2\n"}
	getenv := func(k string) string { return env[k] }
	t.Run("OK", func(t *testing.T) {
		c, err := parseConfig([]string{"-http-key", "from-flag", "-log-format", "console"}, getenv, os.Stderr)
		if err != nil {
			t.Fatal(err)
		}
		if c.Addr != "127.0.0.1:9999" || c.HTTPKey != "from-flag" || c.Env["A"] != "1,5" || c.Env["B"] != "2" || len(c.Env) != 2 || c.LogFormat != "console" {
			t.Fatalf("got %+v", c)
		}
	})
	t.Run("EnvFlagKeepsCommas", func(t *testing.T) {
		c, err := parseConfig([]string{"-env", "GREETING=hello,world", "-env", "EMPTY="}, getenv, os.Stderr)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Env) != 2 || c.Env["GREETING"] != "hello,world" || c.Env["EMPTY"] != "" {
			t.Fatalf("env %v, want GREETING=hello,world and EMPTY=", c.Env)
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
	t.Run("ConsoleNoColorInFiles", func(t *testing.T) {
		var out strings.Builder
		log, err := newLogger(&config{LogLevel: "info", LogFormat: "console", Node: "n"}, &out)
		if err != nil {
			t.Fatal(err)
		}
		log.Info().Str("k", "v").Msg("hello")
		if got := out.String(); !strings.Contains(got, "hello") || strings.Contains(got, "\x1b[") {
			t.Fatalf("console log to a non-terminal: %q, want no colour codes", got)
		}
	})
	t.Run("ErrLogLevel", func(t *testing.T) {
		if _, err := newLogger(&config{LogLevel: "trace"}, os.Stdout); err == nil {
			t.Fatal("newLogger(trace) succeeded, want an error")
		}
	})
}

// TestLoadKeys checks that the keys file holds only generated keys: a
// configured key is never written, and with every key configured no file
// is written at all, so a read-only or missing data directory is fine.
func TestLoadKeys(t *testing.T) {
	all := config{ServerKey: "cfg-server", HTTPKey: "cfg-http", EncryptionKey: "cfg-enc", RefreshKey: "cfg-refresh"}
	t.Run("AllConfigured", func(t *testing.T) {
		c := all
		c.DataDir = filepath.Join(t.TempDir(), "missing") // any write would fail
		k, err := loadKeys(&c, newTestLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		want := keys{ServerKey: "cfg-server", HTTPKey: "cfg-http", EncryptionKey: "cfg-enc", RefreshKey: "cfg-refresh"}
		if *k != want {
			t.Fatalf("got %+v, want %+v", *k, want)
		}
	})
	t.Run("SomeConfigured", func(t *testing.T) {
		c := config{DataDir: t.TempDir(), HTTPKey: "cfg-http", EncryptionKey: "cfg-enc"}
		k, err := loadKeys(&c, newTestLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		stored := readKeysFile(t, c.DataDir)
		if stored.HTTPKey != "" || stored.EncryptionKey != "" {
			t.Fatalf("the keys file holds configured keys: %+v", stored)
		}
		if k.HTTPKey != "cfg-http" || k.EncryptionKey != "cfg-enc" ||
			k.ServerKey != stored.ServerKey || k.RefreshKey != stored.RefreshKey || len(k.ServerKey) < 40 || len(k.RefreshKey) < 40 {
			t.Fatalf("keys %+v do not match the configuration and the file %+v", *k, stored)
		}
		b, _ := os.ReadFile(filepath.Join(c.DataDir, keysFile))
		if strings.Contains(string(b), "http_key") {
			t.Fatalf("the keys file names http_key, which is configured:\n%s", b)
		}
	})
	t.Run("ConfiguredOverridesStored", func(t *testing.T) {
		dir := t.TempDir()
		old := keys{ServerKey: "old-server", HTTPKey: "old-http", EncryptionKey: "old-enc", RefreshKey: "old-refresh"}
		if err := writeKeys(filepath.Join(dir, keysFile), &old); err != nil {
			t.Fatal(err)
		}
		c := config{DataDir: dir, HTTPKey: "cfg-http"}
		k, err := loadKeys(&c, newTestLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		want := keys{ServerKey: "old-server", HTTPKey: "cfg-http", EncryptionKey: "old-enc", RefreshKey: "old-refresh"}
		if *k != want {
			t.Fatalf("got %+v, want %+v", *k, want)
		}
	})
}

// TestServer_configuredKeys starts the server with every key given as a
// flag and checks that it writes no keys file, then with some given and
// checks that the file holds only the others.
func TestServer_configuredKeys(t *testing.T) {
	t.Run("All", func(t *testing.T) {
		args := append(dataArgs(t, "../../plugins"), "-server-key", "cfg-server-key-0123456789", "-refresh-encryption-key", "cfg-refresh-key-0123456789",
			"-console-password", "cfg-console-password")
		s := startServer(t, args...)
		if res := do(t, "POST", s.URL+"/v2/rpc/echo?unwrap&http_key="+testHTTPKey, "x", nil); res.Status != 200 {
			t.Fatalf("configured http key refused: %d %s", res.Status, res.Body)
		}
		data := args[1]
		if _, err := os.Stat(filepath.Join(data, keysFile)); !os.IsNotExist(err) {
			t.Fatalf("with every key configured, %s exists (stat: %v)", keysFile, err)
		}
	})
	t.Run("Some", func(t *testing.T) {
		args := dataArgs(t, "../../plugins") // -http-key and -encryption-key
		startServer(t, args...)
		k := readKeysFile(t, args[1])
		if k.HTTPKey != "" || k.EncryptionKey != "" || k.ServerKey == "" || k.RefreshKey == "" {
			t.Fatalf("keys file %+v: want only the server and refresh keys", k)
		}
	})
}

// readKeysFile reads the keys file of the data directory dir.
func readKeysFile(t *testing.T, dir string) keys {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, keysFile))
	if err != nil {
		t.Fatal(err)
	}
	var k keys
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRun_checksBeforeCreating checks that a start that cannot succeed
// creates neither the data directory nor the keys file.
func TestRun_checksBeforeCreating(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"ErrNoPlugins", []string{"-plugins", filepath.Join(t.TempDir(), "nope")}},
		{"ErrSameKeys", []string{"-plugins", "../../plugins", "-encryption-key", "same-key-0123", "-refresh-encryption-key", "same-key-0123"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := append([]string{"-addr", "127.0.0.1:0", "-data", data}, tt.args...)
			if err := run(t.Context(), args, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
				t.Fatal("run succeeded, want an error")
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Fatalf("the data directory exists after a failed start (stat: %v)", err)
			}
		})
	}
}
