// Package manifest reads a plugin's manifest, NAME.toml at the top of the
// plugin folder (for NAME.wasm there or in the subfolder NAME/): what the
// operator grants the plugin (outbound HTTP origins, environment
// entries) and the limits it runs under, each within the server's maxima.
// The operator owns the file; the plugin cannot change it.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/outbound"
)

// MaxBytes bounds a manifest file; a larger one is refused unread.
const MaxBytes = 64 << 10

// Ext is the manifest's file name extension, after the plugin's name.
const Ext = ".toml"

// Maxima are the server's bounds on what a manifest may set, from its
// flags: -max-memory, -call-timeout, -max-instances and the
// -outbound-max-* flags. They are also the values a plugin without a
// manifest, or whose manifest sets none, runs under, but for the outbound
// defaults, which come from abi.
type Maxima struct {
	MemoryMiB         int
	CallTimeout       time.Duration
	Instances         int
	HTTPTimeout       time.Duration
	HTTPRequestBytes  int64
	HTTPResponseBytes int64
}

// Manifest is a parsed, checked manifest, with every default filled in.
type Manifest struct {
	HTTP   HTTP   `toml:"http"`
	Limits Limits `toml:"limits"`
	Env    Env    `toml:"env"`

	// Policy holds HTTP.Allow, parsed.
	Policy *outbound.Policy `toml:"-"`
}

// HTTP is the [http] table: outbound HTTP grants and limits.
type HTTP struct {
	// Allow lists the origins the plugin may call (outbound.ParsePolicy);
	// empty or absent allows none.
	Allow []string `toml:"allow"`
	// Timeout bounds each request. Default abi.DefaultOutboundTimeoutSeconds.
	Timeout Duration `toml:"timeout"`
	// MaxRequestBytes and MaxResponseBytes bound the bodies. Defaults
	// abi.DefaultOutboundMaxRequestBytes and
	// abi.DefaultOutboundMaxResponseBytes.
	MaxRequestBytes  int64 `toml:"max_request_bytes"`
	MaxResponseBytes int64 `toml:"max_response_bytes"`
}

// Limits is the [limits] table: the plugin's own, lower, limits. A zero
// value takes the server's.
type Limits struct {
	MemoryMiB   int      `toml:"memory_mib"`
	CallTimeout Duration `toml:"call_timeout"`
	Instances   int      `toml:"instances"`
}

// Env is the [env] table.
type Env struct {
	// Allow lists the -env entries the plugin sees; nil (no key) is all
	// of them, an empty list none.
	Allow *[]string `toml:"allow"`
}

// Duration is a TOML string such as "5s" or "1m30s".
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"5s\"", b)
	}
	if v <= 0 {
		return fmt.Errorf("%q must be positive", b)
	}
	d.Duration = v
	return nil
}

// Default returns the manifest of a plugin that has none: no grants, every
// environment entry, the server's limits.
func Default(max Maxima) *Manifest {
	m := &Manifest{}
	m.fill(max)
	m.Policy, _ = outbound.ParsePolicy(nil)
	return m
}

// Parse reads a manifest strictly (an unknown key, table or type is an
// error), checks it against max and fills in the defaults. Keys are
// case-sensitive, as in TOML: each must be spelled as its field's toml
// tag, and be given once.
//
// # Errors
//
// It fails on bad TOML, an unknown key (another spelling of a known one
// included), a key given twice, a malformed grant, a negative value, or a
// value over its server maximum, naming the key and its line or the limit.
func Parse(data []byte, max Maxima) (*Manifest, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("manifest is %d bytes, more than %d", len(data), MaxBytes)
	}
	// go-toml matches keys to fields case-insensitively: checkKeys first.
	if err := checkKeys(data); err != nil {
		return nil, err
	}
	m := &Manifest{}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		return nil, decodeError(err)
	}
	if err := m.check(max); err != nil {
		return nil, err
	}
	policy, err := outbound.ParsePolicy(m.HTTP.Allow)
	if err != nil {
		return nil, fmt.Errorf("[http] allow: %w", err)
	}
	m.Policy = policy
	m.fill(max)
	return m, nil
}

// decodeError makes go-toml's errors name the key and line.
func decodeError(err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var keys []string
		for _, e := range strict.Errors {
			row, _ := e.Position()
			keys = append(keys, fmt.Sprintf("%s (line %d)", strings.Join(e.Key(), "."), row))
		}
		return fmt.Errorf("unknown key %s", strings.Join(keys, ", "))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Errorf("line %d, column %d: %s", row, col, de.Error())
	}
	return err
}

// check refuses negative values and values over the server's maxima.
func (m *Manifest) check(max Maxima) error {
	type bound struct {
		key      string
		v, limit int64
		flag     string
	}
	for _, b := range []bound{
		{"[http] timeout", int64(m.HTTP.Timeout.Duration), int64(max.HTTPTimeout), "-outbound-max-timeout"},
		{"[http] max_request_bytes", m.HTTP.MaxRequestBytes, max.HTTPRequestBytes, "-outbound-max-request-bytes"},
		{"[http] max_response_bytes", m.HTTP.MaxResponseBytes, max.HTTPResponseBytes, "-outbound-max-response-bytes"},
		{"[limits] memory_mib", int64(m.Limits.MemoryMiB), int64(max.MemoryMiB), "-max-memory"},
		{"[limits] call_timeout", int64(m.Limits.CallTimeout.Duration), int64(max.CallTimeout), "-call-timeout"},
		{"[limits] instances", int64(m.Limits.Instances), int64(max.Instances), "-max-instances"},
	} {
		switch {
		case b.v < 0:
			return fmt.Errorf("%s must not be negative", b.key)
		case b.v > b.limit:
			return fmt.Errorf("%s is %s, over the server's maximum %s (%s)", b.key, show(b.key, b.v), show(b.key, b.limit), b.flag)
		}
	}
	if m.Env.Allow != nil {
		for _, k := range *m.Env.Allow {
			if k == "" || strings.ContainsAny(k, "= \t\n") {
				return fmt.Errorf("[env] allow: %q is not an environment key", k)
			}
		}
	}
	return nil
}

// show renders a bound's value: durations as durations.
func show(key string, v int64) string {
	if strings.HasSuffix(key, "timeout") {
		return time.Duration(v).String()
	}
	return fmt.Sprint(v)
}

// fill sets every zero value to its default: the outbound defaults of abi,
// bounded by the server's maxima, and the server's limits.
func (m *Manifest) fill(max Maxima) {
	if m.HTTP.Timeout.Duration == 0 {
		m.HTTP.Timeout.Duration = min(abi.DefaultOutboundTimeoutSeconds*time.Second, max.HTTPTimeout)
	}
	if m.HTTP.MaxRequestBytes == 0 {
		m.HTTP.MaxRequestBytes = min(abi.DefaultOutboundMaxRequestBytes, max.HTTPRequestBytes)
	}
	if m.HTTP.MaxResponseBytes == 0 {
		m.HTTP.MaxResponseBytes = min(abi.DefaultOutboundMaxResponseBytes, max.HTTPResponseBytes)
	}
	if m.Limits.MemoryMiB == 0 {
		m.Limits.MemoryMiB = max.MemoryMiB
	}
	if m.Limits.CallTimeout.Duration == 0 {
		m.Limits.CallTimeout.Duration = max.CallTimeout
	}
	if m.Limits.Instances == 0 {
		m.Limits.Instances = max.Instances
	}
}

// FilterEnv returns the entries of env the plugin sees.
func (m *Manifest) FilterEnv(env map[string]string) map[string]string {
	if m.Env.Allow == nil {
		return env
	}
	out := make(map[string]string, len(*m.Env.Allow))
	for _, k := range *m.Env.Allow {
		if v, ok := env[k]; ok {
			out[k] = v
		}
	}
	return out
}
