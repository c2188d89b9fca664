// Command server runs Warden: a self-hosted RPC server whose RPC handlers are
// WebAssembly plugins, wire-compatible with Nakama's HTTP RPC API.
//
// Run it with no flags to serve the bundled plugins from ./plugins on
// 127.0.0.1:7350, with data under ./data. `server -h` lists the flags; each
// has an environment variable (-http-key is WARDEN_HTTP_KEY).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/accounts"
	"github.com/warden-rpc/warden/console"
	"github.com/warden-rpc/warden/gcfloor"
	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/httpapi"
	"github.com/warden-rpc/warden/outbound"
	"github.com/warden-rpc/warden/pluginstore"
)

// version is the server's version, set at build time with
// -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(doMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// doMain runs the server and maps its error to an exit code.
func doMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, os.Getenv, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintln(stderr, "warden:", err)
		return 1
	}
}

// run starts the server and blocks until ctx is done, then shuts down
// gracefully: it stops accepting, lets calls in flight finish (bounded by
// the call timeout), then closes the plugins and the database.
//
// # Errors
//
// It fails on bad configuration, when a plugin fails to load, or when the
// listener cannot start.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	var ring *console.LogRing // the console's log tail, a tee under the root logger
	var tees []io.Writer
	if cfg.Console {
		ring = console.NewLogRing(0)
		tees = append(tees, ring)
	}
	log, err := newLogger(cfg, stdout, tees...)
	if err != nil {
		return err
	}
	if err := cfg.checkDirs(); err != nil {
		return err
	}
	defer startHeapFloor(cfg, log)()
	if cfg.CPUProfile != "" {
		stop, err := startCPUProfile(cfg.CPUProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	cfg.Outbound.Logger = log
	m := newMetrics(cfg)
	cfg.Outbound.Observer = m.outboundObserver()
	out, err := outbound.New(cfg.Outbound) // reads -outbound-ca-file before anything is created
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	k, err := loadKeys(cfg, log)
	if err != nil {
		return err
	}
	st, err := openStores(ctx, cfg, log, m.storageObserver())
	if err != nil {
		return err
	}
	defer closeLogged(log, "databases", st.close)
	ps, err := openPluginStore(ctx, cfg, log) // cluster mode: plugins in PostgreSQL
	if err != nil {
		return err
	}
	if ps != nil {
		defer ps.Close()
	}
	h, err := host.New(ctx, host.Config{
		PluginDir:      cfg.PluginDir,
		CacheDir:       filepath.Join(cfg.DataDir, "cache"),
		PruneCache:     true,
		Databases:      st.plugins,
		Logger:         log,
		GuestLog:       guestLog(cfg, stdout, ring),
		CallTimeout:    cfg.CallTimeout,
		MaxMemoryPages: uint32(cfg.MaxMemoryMiB) * abi.PagesPerMiB,
		MaxInstances:   cfg.MaxInstances,
		Env:            cfg.Env,
		Node:           cfg.Node,
		ServerVersion:  version,
		CheckRoutes:    httpapi.CheckPluginRoutes,
		MaxPluginBytes: cfg.MaxPluginBytes,
		StrictLoad:     cfg.StrictPlugins,
		Store:          hostStore(ps),
		ServingFile:    hostServingFile(cfg),
		Outbound:       out,
		Observer:       m.hostObserver(),
	})
	if err != nil {
		return fmt.Errorf("load plugins: %w", err)
	}
	defer closeLogged(log, "plugins", func() error { return h.Close(context.Background()) })
	acc, err := accounts.New(ctx, accounts.Config{
		DB:            st.own,
		Feed:          st.feed,
		EncryptionKey: []byte(k.EncryptionKey),
		RefreshKey:    []byte(k.RefreshKey),
		SessionExpiry: cfg.SessionExpiry,
		RefreshExpiry: cfg.RefreshExpiry,
		Logger:        log,
	})
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	go acc.Listen(ctx) // a cluster node hears the others' logouts; returns at once on one node
	w := wiring{keys: k, host: h, accounts: acc, plugins: ps, metrics: m}
	if cfg.LogFormat == "json" {
		w.logOut = stdout // one JSON line per write: the access log may batch them
		if ring != nil {
			w.logOut = io.MultiWriter(ring, stdout)
		}
	}
	if w.console, err = newConsole(ctx, cfg, w, st.own, ring, log); err != nil {
		return err
	}
	return serve(ctx, cfg, w, log)
}

// startCPUProfile writes a CPU profile of the process to path until stop
// is called.
//
// # Errors
//
// The file's creation, or a profile already running in the process.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close() // the profile is written; a close error leaves it as it is
	}, nil
}

// startHeapFloor gives the garbage collector -heap-floor MiB to grow
// into, unless GOGC is set: the operator chose the pacing. GOGC is read
// from the process's environment, where the runtime reads it, not through
// run's getenv.
func startHeapFloor(cfg *config, log zerolog.Logger) (stop func()) {
	if os.Getenv("GOGC") != "" {
		if cfg.HeapFloorMiB != defaultHeapFloorMiB {
			log.Warn().Int("heap_floor_mib", cfg.HeapFloorMiB).Msg("GOGC is set: -heap-floor is ignored")
		}
		return func() {}
	}
	return gcfloor.Start(int64(cfg.HeapFloorMiB) << 20)
}

// wiring is what run opened for serve.
type wiring struct {
	keys     *keys
	host     *host.Host
	accounts *accounts.Service
	// plugins is the cluster's plugin store, nil outside cluster mode.
	plugins *pluginstore.Store
	// logOut is the writer under the root logger when it takes whole JSON
	// lines, and nil otherwise.
	logOut io.Writer
	// console is the web console, nil when it is off.
	console *console.Console
	// metrics is nil when -metrics-addr is off.
	metrics *serverMetrics
}

// serve runs the HTTP API until ctx is done. The accounts service also
// checks every session token for revocation, and failed authentication
// attempts are limited per client address.
func serve(ctx context.Context, cfg *config, w wiring, log zerolog.Logger) error {
	k, h := w.keys, w.host
	srv, err := httpapi.NewServer(httpapi.Config{
		Addr:              cfg.Addr,
		Caller:            h,
		HTTPKey:           k.HTTPKey,
		EncryptionKey:     []byte(k.EncryptionKey),
		Sessions:          w.accounts,
		Accounts:          w.accounts,
		ServerKey:         k.ServerKey,
		Limiter:           accounts.NewLimiter(accounts.LimiterConfig{}),
		MaxBodyBytes:      cfg.MaxBodyBytes,
		CallTimeout:       cfg.CallTimeout,
		ReadHeaderTimeout: cfg.HeaderTimeout,
		Routes:            h,
		Admin:             h,
		NativeEcho:        cfg.BenchNative,
		Logger:            log,
		AccessLog:         cfg.AccessLog,
		AccessLogOutput:   w.logOut,
		Console:           w.consoleHandler(),
		Observer:          w.metrics.httpObserver(),
	})
	if err != nil {
		return err
	}
	if w.console != nil {
		w.console.SetAPI(srv.Handler())
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	if err := w.metrics.start(ctx, h, log); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP) // before "listening": a SIGHUP from then on reloads
	defer signal.Stop(hup)
	go reloadOnSignal(ctx, hup, h, log)
	if cfg.WatchInterval > 0 {
		go h.Watch(ctx, cfg.WatchInterval)
	}
	go watchPluginStore(ctx, cfg, w.plugins, h)
	log.Info().Str("url", srv.URL()).Int("plugins", len(h.Plugins())).Str("version", version).Msg("listening")
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.CallTimeout+5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return <-done
}

// reloadOnSignal reloads the plugins on every signal on hup until ctx is
// done.
func reloadOnSignal(ctx context.Context, hup <-chan os.Signal, h *host.Host, log zerolog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if _, err := h.Reload(ctx); err != nil {
				log.Error().Err(err).Msg("reload on SIGHUP")
			}
		}
	}
}

// newLogger builds the root logger: the only place that does. Each of
// tees, when not nil, gets every JSON line too, whatever the format.
func newLogger(cfg *config, stdout io.Writer, tees ...io.Writer) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil || lvl < zerolog.DebugLevel || lvl > zerolog.ErrorLevel {
		return zerolog.Logger{}, fmt.Errorf("log-level %q: want debug, info, warn or error", cfg.LogLevel)
	}
	w := logOutput(cfg, stdout)
	for _, t := range tees {
		w = io.MultiWriter(t, w)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Str("node", cfg.Node).Logger(), nil
}

// logOutput is the logs' writer to stdout, in the configured format.
func logOutput(cfg *config, stdout io.Writer) io.Writer {
	if cfg.LogFormat == "console" {
		return zerolog.ConsoleWriter{Out: stdout, TimeFormat: time.RFC3339, NoColor: !isTerminal(stdout)}
	}
	return stdout
}

// guestLog returns host.Config.GuestLog: a plugin's own lines go to
// stdout as every log line does, and into the console's ring under the
// plugin's share (console.LogRing.Share). Nil when there is no ring.
func guestLog(cfg *config, stdout io.Writer, ring *console.LogRing) func(string) io.Writer {
	if ring == nil {
		return nil
	}
	out := logOutput(cfg, stdout)
	return func(plugin string) io.Writer { return io.MultiWriter(ring.Share(plugin), out) }
}

// isTerminal reports whether w is a terminal; colour codes go only there,
// never into a file or a pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func closeLogged(log zerolog.Logger, what string, closeFn func() error) {
	if err := closeFn(); err != nil {
		log.Error().Err(err).Str("what", what).Msg("close")
	}
}
