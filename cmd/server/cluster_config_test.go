package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clusterKeyArgs are the four keys a cluster node must be given.
var clusterKeyArgs = []string{"-http-key", "hk", "-server-key", "sk", "-encryption-key", "ek", "-refresh-encryption-key", "rk", "-console-password", "cp"}

func TestConfig_clusterNeedsEveryKey(t *testing.T) {
	noEnv := func(string) string { return "" }
	tests := []struct {
		name    string
		args    []string
		getenv  func(string) string
		missing []string // flags the error must name; nil: no error
	}{
		{name: "OK", args: append([]string{"-database", "postgres://x@127.0.0.1/db"}, clusterKeyArgs...), getenv: noEnv},
		{name: "OKFromEnv", args: []string{"-database", "postgresql://127.0.0.1/db"}, getenv: func(k string) string {
			return map[string]string{"WARDEN_HTTP_KEY": "a", "WARDEN_SERVER_KEY": "b", "WARDEN_ENCRYPTION_KEY": "c", "WARDEN_REFRESH_ENCRYPTION_KEY": "d", "WARDEN_CONSOLE_PASSWORD": "e"}[k]
		}},
		{name: "NoKeys", args: []string{"-database", "postgres://127.0.0.1/db"}, getenv: noEnv,
			missing: []string{"-http-key", "-server-key", "-encryption-key", "-refresh-encryption-key", "-console-password"}},
		{name: "OneMissing", args: []string{"-database", "postgres://127.0.0.1/db", "-http-key", "a", "-server-key", "b", "-encryption-key", "c"},
			getenv: noEnv, missing: []string{"-refresh-encryption-key", "-console-password"}},
		{name: "ConsoleOff", args: []string{"-database", "postgres://127.0.0.1/db", "-http-key", "a", "-server-key", "b", "-encryption-key", "c", "-refresh-encryption-key", "d", "-console=false"},
			getenv: noEnv},
		{name: "DatabaseFromEnv", args: nil, getenv: func(k string) string {
			return map[string]string{"WARDEN_DATABASE": "postgres://127.0.0.1/db", "WARDEN_HTTP_KEY": "a"}[k]
		}, missing: []string{"-server-key", "-encryption-key", "-refresh-encryption-key", "-console-password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, tt.getenv, &strings.Builder{})
			if tt.missing == nil {
				if err != nil || !c.clustered() {
					t.Fatalf("parseConfig = %v, clustered %v; want a cluster config", err, c != nil && c.clustered())
				}
				return
			}
			if err == nil {
				t.Fatal("parseConfig accepted a cluster config without every key")
			}
			for _, f := range tt.missing {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not name %s", err, f)
				}
			}
		})
	}
}

func TestConfig_clusterBadURL(t *testing.T) {
	args := append([]string{"-database", "mysql://secret@host/db"}, clusterKeyArgs...)
	_, err := parseConfig(args, func(string) string { return "" }, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("parseConfig = %v, want an error asking for a postgres:// URL", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q echoes the URL", err)
	}
}

// TestRun_clusterRefusesWithoutKeys checks that a node missing keys stops
// before creating anything: no data directory, no keys file.
func TestRun_clusterRefusesWithoutKeys(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	err := run(t.Context(), []string{"-database", "postgres://127.0.0.1:1/none", "-data", data, "-plugins", "../../plugins"},
		func(string) string { return "" }, &strings.Builder{}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "-http-key") {
		t.Fatalf("run = %v, want a refusal naming -http-key", err)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data directory exists after a refused start: %v", err)
	}
}

// TestHostServingFile: the record of the plugin files that serve is under
// the data directory on one node; a cluster node, which does not read its
// plugin folder, keeps none.
func TestHostServingFile(t *testing.T) {
	if got, want := hostServingFile(&config{DataDir: "data"}), filepath.Join("data", servingFileName); got != want {
		t.Errorf("one node: %q, want %q", got, want)
	}
	if got := hostServingFile(&config{DataDir: "data", Database: "postgres://db/warden"}); got != "" {
		t.Errorf("cluster mode: %q, want none", got)
	}
}
