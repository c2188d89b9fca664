package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/accounts"
	"github.com/warden-rpc/warden/console"
	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/httpapi"
	"github.com/warden-rpc/warden/outbound"
	"github.com/warden-rpc/warden/storage"
)

// config is the server's configuration, from flags and WARDEN_* variables.
type config struct {
	Addr          string
	DataDir       string
	PluginDir     string
	HTTPKey       string
	ServerKey     string
	EncryptionKey string
	RefreshKey    string
	SessionExpiry time.Duration
	RefreshExpiry time.Duration
	LogLevel      string
	LogFormat     string
	CallTimeout   time.Duration
	HeaderTimeout time.Duration
	MaxBodyBytes  int64
	MaxMemoryMiB  int
	MaxInstances  int
	Node          string
	Env           envList
	BenchNative   bool
	WatchInterval time.Duration
	AccessLog     bool
	// StrictPlugins makes any plugin that fails to load at start fatal.
	StrictPlugins bool
	// MaxPluginBytes bounds a plugin file.
	MaxPluginBytes int64
	// MaxPluginDBBytes bounds each plugin's database: its SQLite file, or
	// its schema on PostgreSQL (pg.Options.MaxBytes); 0: none.
	MaxPluginDBBytes int64
	// MaxPluginDBMemory bounds the memory SQLite holds for each plugin's
	// database, all its connections together (storage.Options.MaxMemoryBytes).
	MaxPluginDBMemory int64
	// Database is the PostgreSQL URL of cluster mode, or "" for SQLite
	// files under DataDir (see cluster.go).
	Database string
	// Console serves the web console; ConsoleUser and ConsolePassword sign
	// in to it (the password is generated when empty).
	Console         bool
	ConsoleUser     string
	ConsolePassword string
	// Outbound bounds plugins' outbound HTTP (its Logger is set by run).
	Outbound outbound.Config
	// MetricsAddr is the Prometheus listener's address; empty: off.
	MetricsAddr string
	// HeapFloorMiB is the garbage collector's heap floor (gcfloor); 0: Go's
	// own pacing.
	HeapFloorMiB int
	// CPUProfile is a file that receives a CPU profile (pprof) of the
	// whole run, as cmd/server/default.pgo is made; "" for none.
	CPUProfile string
}

// defaultHeapFloorMiB is -heap-floor's default: a heap of 32 MiB lets
// the collector run a few times a second under load instead of dozens
// (RATIONALE.md, "A heap floor for the garbage collector").
const defaultHeapFloorMiB = 32

// envList collects repeated -env KEY=VALUE flags.
type envList map[string]string

func (e envList) String() string { return fmt.Sprint(map[string]string(e)) }

// Set adds KEY=VALUE entries, one per line, so that WARDEN_ENV can hold
// several; empty lines are skipped. A value may hold any character but a
// newline, commas included.
func (e envList) Set(s string) error {
	for _, kv := range strings.Split(s, "\n") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("env %q: want KEY=VALUE", kv)
		}
		e[k] = v
	}
	return nil
}

// parseConfig reads flags from args, then fills every flag not given on the
// command line from its environment variable: -http-key from WARDEN_HTTP_KEY.
//
// # Errors
//
// It fails on an unknown flag, a bad value, or a bad variable.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{Env: envList{}}
	fs := flag.NewFlagSet("warden", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", httpapi.DefaultAddr, "address to listen on")
	fs.StringVar(&c.DataDir, "data", "data", "directory for the database, generated keys and the compilation cache")
	fs.StringVar(&c.PluginDir, "plugins", "plugins", "directory of plugins: NAME.wasm, or NAME/NAME.wasm in a subdirectory named after the plugin")
	fs.StringVar(&c.HTTPKey, "http-key", "", "runtime HTTP key for server-to-server calls (default: generated and kept in the data directory)")
	fs.StringVar(&c.ServerKey, "server-key", "", "server key for client authentication (default: generated)")
	fs.StringVar(&c.EncryptionKey, "encryption-key", "", "key that signs session tokens (default: generated)")
	fs.StringVar(&c.RefreshKey, "refresh-encryption-key", "", "key that signs refresh tokens; must differ from -encryption-key (default: generated)")
	fs.DurationVar(&c.SessionExpiry, "session-expiry", accounts.DefaultSessionExpiry, "lifetime of a session token")
	fs.DurationVar(&c.RefreshExpiry, "refresh-expiry", accounts.DefaultRefreshExpiry, "lifetime of a refresh token")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log format: json or console")
	fs.DurationVar(&c.CallTimeout, "call-timeout", host.DefaultCallTimeout, "deadline of one plugin call")
	fs.DurationVar(&c.HeaderTimeout, "read-header-timeout", httpapi.DefaultReadHeaderTimeout, "time a client may take to send a request's headers")
	fs.Int64Var(&c.MaxBodyBytes, "max-body", httpapi.DefaultMaxBodyBytes, "largest request body in bytes")
	fs.IntVar(&c.MaxMemoryMiB, "max-memory", host.DefaultMaxMemoryPages/abi.PagesPerMiB, "memory cap of each plugin instance, in MiB")
	fs.IntVar(&c.MaxInstances, "max-instances", 0, "instances per plugin (default: 2 x CPUs, at least 4)")
	fs.StringVar(&c.Node, "node", host.DefaultNode, "node name, as plugins see it")
	fs.Var(c.Env, "env", "plugin environment entry KEY=VALUE (repeatable; WARDEN_ENV: one entry per line)")
	fs.DurationVar(&c.WatchInterval, "watch", time.Second, "poll the plugin directory this often and reload changed plugins (0: off; SIGHUP and POST /_warden/plugins still reload); with -database, poll the plugin store this often behind its notifications (0: 1s)")
	fs.BoolVar(&c.BenchNative, "bench-native", false, "serve /_bench/echo, a native echo handler, for benchmarks")
	fs.BoolVar(&c.AccessLog, "access-log", true, "log every request")
	fs.BoolVar(&c.StrictPlugins, "strict-plugins", false, "refuse to start when any plugin fails to load, listing every failure (default: log and list the failures and serve the others)")
	fs.Int64Var(&c.MaxPluginBytes, "max-plugin-bytes", host.DefaultMaxPluginBytes, "largest plugin file in bytes; a larger one is refused unread")
	fs.Int64Var(&c.MaxPluginDBMemory, "plugin-db-max-memory", abi.MaxDBMemoryBytes, "memory SQLite may hold for one plugin's database, in bytes, all its connections together (page caches, prepared statements, a statement's values); a statement past it fails with LIMIT_EXCEEDED")
	fs.Int64Var(&c.MaxPluginDBBytes, "plugin-db-max-bytes", storage.DefaultMaxPluginDBBytes, "largest database of one plugin, in bytes on disk (its SQLite file, or with -database its schema's tables, indexes and sequences); a write past it fails with LIMIT_EXCEEDED (0: no bound)")
	// Cluster mode (issue 13): every node's state in one PostgreSQL database.
	fs.StringVar(&c.Database, "database", "", "PostgreSQL URL (postgres://...) holding accounts, sessions and plugin data, shared by every node; every key must then be given, and the data directory holds only the compilation cache (default: SQLite files in the data directory)")
	// The web console (package console).
	fs.BoolVar(&c.Console, "console", true, "serve the web console at /_warden/console/")
	fs.StringVar(&c.ConsoleUser, "console-user", console.DefaultUser, "user name that signs in to the web console")
	fs.StringVar(&c.ConsolePassword, "console-password", "", "password of the web console user (default: generated and kept in the data directory's keys.json as console_password)")
	// Outbound HTTP from plugins (http_request, ABI 1.2): the server's bounds
	// on what manifests grant, and the extra CA.
	fs.StringVar(&c.Outbound.CAFile, "outbound-ca-file", "", "PEM file of certificate authorities that plugins' outbound HTTPS trusts besides the system's")
	fs.IntVar(&c.Outbound.MaxRequests, "outbound-max-requests", outbound.DefaultMaxRequests, "outbound HTTP requests in flight across all plugins")
	fs.IntVar(&c.Outbound.MaxRequestsPerPlugin, "outbound-max-requests-per-plugin", outbound.DefaultMaxRequestsPerPlugin, "outbound HTTP requests in flight, and connections, per plugin")
	fs.DurationVar(&c.Outbound.MaxTimeout, "outbound-max-timeout", outbound.DefaultMaxTimeout, "largest [http] timeout a plugin manifest may set")
	fs.Int64Var(&c.Outbound.MaxRequestBytes, "outbound-max-request-bytes", outbound.DefaultMaxRequestBytes, "largest [http] max_request_bytes a plugin manifest may set")
	fs.Int64Var(&c.Outbound.MaxResponseBytes, "outbound-max-response-bytes", outbound.DefaultMaxResponseBytes, "largest [http] max_response_bytes a plugin manifest may set")
	// Metrics (issue 15): Prometheus exposition on a listener of its own.
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics, such as 127.0.0.1:9100 (default: off)")
	fs.IntVar(&c.HeapFloorMiB, "heap-floor", defaultHeapFloorMiB, "let the Go heap grow to this many MiB before the garbage collector runs, however little of it is live (0: Go's default pacing; ignored when GOGC is set)")
	fs.StringVar(&c.CPUProfile, "cpu-profile", "", "write a CPU profile (pprof) of the whole run to this file when the server stops, such as the one the profile-guided build uses (cmd/server/default.pgo)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := "WARDEN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return c, c.check()
}

func (c *config) check() error {
	switch {
	case c.LogFormat != "json" && c.LogFormat != "console":
		return fmt.Errorf("log-format %q: want json or console", c.LogFormat)
	case c.CallTimeout <= 0:
		return fmt.Errorf("call-timeout %s: want a positive duration", c.CallTimeout)
	case c.HeaderTimeout <= 0:
		return fmt.Errorf("read-header-timeout %s: want a positive duration", c.HeaderTimeout)
	case c.SessionExpiry < time.Second || c.RefreshExpiry < time.Second:
		return fmt.Errorf("session-expiry %s, refresh-expiry %s: want at least 1s each", c.SessionExpiry, c.RefreshExpiry)
	case c.MaxBodyBytes <= 0:
		return fmt.Errorf("max-body %d: want a positive size", c.MaxBodyBytes)
	case c.MaxMemoryMiB <= 0 || c.MaxMemoryMiB > 4096:
		return fmt.Errorf("max-memory %d: want 1..4096 MiB", c.MaxMemoryMiB)
	case c.MaxPluginBytes <= 0:
		return fmt.Errorf("max-plugin-bytes %d: want a positive size", c.MaxPluginBytes)
	case c.MaxPluginDBBytes < 0:
		return fmt.Errorf("plugin-db-max-bytes %d: want 0 (no bound) or a positive size", c.MaxPluginDBBytes)
	case c.MaxPluginDBMemory < minPluginDBMemory:
		return fmt.Errorf("plugin-db-max-memory %d: want at least %d (a plugin's connections' page caches)", c.MaxPluginDBMemory, minPluginDBMemory)
	case c.HeapFloorMiB < 0 || c.HeapFloorMiB > 1<<20:
		return fmt.Errorf("heap-floor %d: want 0..1048576 MiB", c.HeapFloorMiB)
	case c.Outbound.MaxRequests <= 0 || c.Outbound.MaxRequestsPerPlugin <= 0 || c.Outbound.MaxTimeout <= 0 ||
		c.Outbound.MaxRequestBytes <= 0 || c.Outbound.MaxResponseBytes <= 0:
		return errors.New("outbound-max-*: want positive values")
	case c.EncryptionKey != "" && c.EncryptionKey == c.RefreshKey:
		return errors.New("refresh-encryption-key: must differ from encryption-key")
	}
	return c.checkCluster()
}

// checkDirs checks the directories before run creates anything, so that a
// start that cannot succeed leaves no data directory or keys file behind:
// the plugin directory must exist, and the data directory, if it exists,
// must be a directory.
func (c *config) checkDirs() error {
	info, err := os.Stat(c.PluginDir)
	switch {
	case c.clustered() && errors.Is(err, fs.ErrNotExist):
		// Cluster mode: the folder only seeds an empty plugin store.
	case err != nil:
		return fmt.Errorf("plugin directory: %w", err)
	case !info.IsDir():
		return fmt.Errorf("plugin directory %s: not a directory", c.PluginDir)
	}
	if info, err := os.Stat(c.DataDir); err == nil && !info.IsDir() {
		return fmt.Errorf("data directory %s: not a directory", c.DataDir)
	}
	return nil
}
