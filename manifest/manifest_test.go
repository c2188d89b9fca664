package manifest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
)

var testMax = Maxima{MemoryMiB: 32, CallTimeout: 10 * time.Second, Instances: 8,
	HTTPTimeout: 30 * time.Second, HTTPRequestBytes: 16 << 20, HTTPResponseBytes: 16 << 20}

func TestParse(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		m, err := Parse([]byte(`
[http]
allow = ["https://api.example.com", "https://*.stripe.com", "http://127.0.0.1:8080"]
timeout = "2s"
max_response_bytes = 1048576

[limits]
memory_mib = 16
call_timeout = "3s"
instances = 2

[env]
allow = ["API_URL"]
`), testMax)
		if err != nil {
			t.Fatal(err)
		}
		if m.HTTP.Timeout.Duration != 2*time.Second || m.HTTP.MaxResponseBytes != 1<<20 ||
			m.HTTP.MaxRequestBytes != abi.DefaultOutboundMaxRequestBytes {
			t.Errorf("http %+v", m.HTTP)
		}
		if m.Limits != (Limits{16, Duration{3 * time.Second}, 2}) {
			t.Errorf("limits %+v", m.Limits)
		}
		if !slices.Equal(m.Policy.Grants(), m.HTTP.Allow) {
			t.Errorf("policy %v", m.Policy.Grants())
		}
		env := m.FilterEnv(map[string]string{"API_URL": "u", "DB_PASSWORD": "p"})
		if len(env) != 1 || env["API_URL"] != "u" {
			t.Errorf("env %v", env)
		}
	})
	t.Run("OKEmpty", func(t *testing.T) {
		m, err := Parse(nil, testMax)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Policy.Grants()) != 0 || m.Limits.Instances != 8 || m.HTTP.Timeout.Duration != abi.DefaultOutboundTimeoutSeconds*time.Second {
			t.Errorf("%+v", m)
		}
		if env := m.FilterEnv(map[string]string{"A": "1"}); len(env) != 1 {
			t.Errorf("without [env] allow a plugin sees %v, want every entry", env)
		}
	})
	t.Run("OKEnvNone", func(t *testing.T) {
		m, err := Parse([]byte("[env]\nallow = []\n"), testMax)
		if err != nil {
			t.Fatal(err)
		}
		if env := m.FilterEnv(map[string]string{"A": "1"}); len(env) != 0 {
			t.Errorf("allow = [] sees %v", env)
		}
	})
	bad := []struct{ name, toml, want string }{
		{"UnknownKey", "[http]\nallow = []\nalow = []\n", "unknown key http.alow (line 3)"},
		{"UnknownTable", "[htp]\nallow = []\n", "unknown key htp"},
		{"BadTOML", "[http\n", "line 1"},
		{"BadType", "[limits]\ninstances = \"two\"\n", "line 2"},
		{"BadGrant", "[http]\nallow = [\"ftp://x.example\"]\n", `grant "ftp://x.example"`},
		{"BadDuration", "[http]\ntimeout = \"soon\"\n", "not a duration"},
		{"ZeroDuration", "[limits]\ncall_timeout = \"0s\"\n", "must be positive"},
		{"Negative", "[limits]\ninstances = -1\n", "must not be negative"},
		{"OverMemory", "[limits]\nmemory_mib = 64\n", "[limits] memory_mib is 64, over the server's maximum 32 (-max-memory)"},
		{"OverTimeout", "[limits]\ncall_timeout = \"1m\"\n", "over the server's maximum 10s (-call-timeout)"},
		{"OverInstances", "[limits]\ninstances = 9\n", "-max-instances"},
		{"OverHTTPTimeout", "[http]\ntimeout = \"31s\"\n", "-outbound-max-timeout"},
		{"OverResponse", "[http]\nmax_response_bytes = 16777217\n", "-outbound-max-response-bytes"},
		{"BadEnvKey", "[env]\nallow = [\"A=B\"]\n", "not an environment key"},
		{"TooLarge", "#" + strings.Repeat("x", MaxBytes), "more than"},
	}
	for _, tt := range bad {
		t.Run("Err"+tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.toml), testMax)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
