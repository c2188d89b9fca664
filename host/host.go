// Package host runs Warden's WebAssembly plugins in wazero: it compiles and
// validates each plugin against the ABI, pools its instances, implements the
// warden_v1 host functions and routes RPC calls to the plugin that
// registered them.
package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/outbound"
	"github.com/warden-rpc/warden/storage"
)

// Defaults for Config fields left zero.
const (
	// DefaultCallTimeout bounds one call, including waiting for an instance.
	DefaultCallTimeout = 10 * time.Second
	// DefaultMaxMemoryPages caps an instance's memory: 512 pages of 64 KiB,
	// 32 MiB.
	DefaultMaxMemoryPages = 512
	// DefaultNode is the node name plugins see.
	DefaultNode = "warden"
)

// Config configures a Host. Zero values take the defaults documented on
// each field.
type Config struct {
	// PluginDir holds the plugins: every NAME.wasm in it, and NAME/NAME.wasm
	// in a subdirectory named after its plugin; another *.wasm in a
	// subdirectory is refused as a load error (checkPlace), and deeper
	// ones are not looked at. With Store, it only seeds an empty store.
	PluginDir string
	// Store, when set, is cluster mode: the plugins come from it, Deploy
	// and Remove write it, and Reload loads its current set (see
	// PluginStore); the plugin directory seeds it when nothing was ever
	// written to it, and is otherwise not read.
	Store PluginStore
	// CacheDir keeps compiled code between runs; empty means no cache.
	CacheDir string
	// PruneCache keeps CacheDir to the code of the versions loaded
	// (cacheFiles): after a reload, deploy or sync that compiled anything,
	// the files of refused and superseded versions are removed. A
	// directory that several hosts share must not be pruned.
	PruneCache bool
	// Databases gives each plugin its own database, for the db_*
	// functions; nil means plugins have no database. A plugin that imports
	// none of db_exec, db_query and db_begin is given none.
	Databases storage.Databases
	// Logger receives host and plugin logs.
	Logger zerolog.Logger
	// GuestLog, when set, gives by plugin name the writer for the lines
	// a plugin's own code writes (its log calls, stdout and stderr) or
	// makes the host write (the outbound client's line per http_request),
	// in place of Logger's writer; the host's lines about the plugin stay
	// on Logger's. cmd/server uses it to bound a plugin's share of the
	// console's log ring (console.LogRing.Share).
	GuestLog func(plugin string) io.Writer
	// CallTimeout bounds one call, including waiting for an instance.
	// Default DefaultCallTimeout.
	CallTimeout time.Duration
	// MaxMemoryPages caps each instance's memory, in 64 KiB pages. Default
	// DefaultMaxMemoryPages.
	MaxMemoryPages uint32
	// HighWaterBytes recycles an instance whose memory grew past it.
	// Default 16 MiB.
	HighWaterBytes uint32
	// MaxInstances bounds the instances of one plugin. Default
	// 2 × GOMAXPROCS, at least 4.
	MaxInstances int
	// MaxOutputBytes bounds a call's output. Default abi.DefaultMaxOutputBytes.
	MaxOutputBytes int
	// Env is the plugin environment (ctx key "env").
	Env map[string]string
	// Node is the node name (ctx key "node"). Default DefaultNode.
	Node string
	// ServerVersion is the server's version (ctx key "version").
	ServerVersion string
	// BreakerThreshold is how many calls in a row must crash (trap, panic
	// or deadline) before a plugin's calls are refused for BreakerCooldown.
	// Defaults: abi.DefaultBreakerThreshold and
	// abi.DefaultBreakerCooldownSeconds.
	BreakerThreshold int
	BreakerCooldown  time.Duration
	// CheckRoutes checks plugins' HTTP routes against the server's own
	// routes; nil checks only plugin against plugin.
	CheckRoutes RouteChecker
	// MaxPluginBytes bounds a plugin file; a larger one is refused unread.
	// Default DefaultMaxPluginBytes.
	MaxPluginBytes int64
	// Outbound sends the plugins' http_request calls under the grants of
	// their manifests; nil makes one with outbound's defaults.
	Outbound *outbound.Service
	// StrictLoad makes New fail when any plugin fails to load; by default
	// the others load and serve, and the failures are logged and listed
	// by LoadErrors.
	StrictLoad bool
	// Observer, when set, is told of loads and reloads, for metrics.
	Observer Observer
	// ServingFile, when set, is a file in which the host records the
	// plugin files that serve whenever they change (a JSON list of paths
	// relative to PluginDir), so that they come first at the next start
	// as they do at a hot reload: a file that contests one of them (the
	// same plugin name, an RPC id or a route) is the one refused. A
	// recorded file that fails to load stays recorded while it is there,
	// and keeps its name (see incumbents). Without a record, or when it
	// cannot be read, every claimant of such a contest is refused at a
	// start. It is written atomically, through a new file of a fresh name.
	// Not used with Store.
	ServingFile string
}

func (c *Config) setDefaults() {
	if c.CallTimeout <= 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.MaxMemoryPages == 0 {
		c.MaxMemoryPages = DefaultMaxMemoryPages
	}
	if c.HighWaterBytes == 0 {
		c.HighWaterBytes = 16 << 20
	}
	if c.MaxInstances <= 0 {
		c.MaxInstances = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if c.MaxOutputBytes <= 0 {
		c.MaxOutputBytes = abi.DefaultMaxOutputBytes
	}
	if c.Node == "" {
		c.Node = DefaultNode
	}
	if c.BreakerThreshold <= 0 {
		c.BreakerThreshold = abi.DefaultBreakerThreshold
	}
	if c.BreakerCooldown <= 0 {
		c.BreakerCooldown = abi.DefaultBreakerCooldownSeconds * time.Second
	}
	if c.MaxPluginBytes <= 0 {
		c.MaxPluginBytes = DefaultMaxPluginBytes
	}
}

// Host loads plugins and serves their RPCs. It is safe for concurrent use.
type Host struct {
	cfg   Config
	log   zerolog.Logger
	rt    wazero.Runtime
	cache wazero.CompilationCache
	// cacheFiles prunes CacheDir (Config.PruneCache), nil when not.
	cacheFiles *cacheFiles
	provided   map[string]map[string]api.FunctionDefinition
	reg        atomic.Pointer[registry]
	// states maps each live instance's module to its call state, for the
	// host functions: a lookup that allocates nothing per call, where a
	// context value would.
	states sync.Map

	// life is the context of loads: canceled by Close, never by a caller.
	life context.Context
	stop context.CancelFunc
	// scanMu makes reloads one at a time, from reading the files to the
	// swap; Close does not take it, so a slow read cannot hold Close up.
	scanMu sync.Mutex
	// reloadMu guards applying a reload against Close; closed is set
	// under it.
	reloadMu sync.Mutex
	closed   bool
	retiring sync.WaitGroup // retired plugins still draining
	errs     atomic.Pointer[loadErrors]
	dbStats  sync.Map // plugin name -> *DBStats, across versions
	// epoch is when the host was made: calls take their deadlines from it
	// with one monotonic clock read.
	epoch time.Time
	// deadlines expires the calls' coarse deadlines, until life ends.
	deadlines *callDeadlines
	// rename renames a file in the plugin folder for a deploy: os.Rename;
	// tests make one fail.
	rename func(oldpath, newpath string) error
	// incumbents come first in contests (Config.ServingFile). They change
	// with both scanMu and reloadMu held, so either guards a read.
	incumbents *incumbents
}

// New starts a wazero runtime with the ABI's host modules and loads every
// plugin in cfg.PluginDir. A plugin that fails to load, or conflicts with
// one loaded before it in file order, is logged and listed by LoadErrors,
// and the others serve.
//
// # Errors
//
// It fails when the plugin directory cannot be listed, or, with
// cfg.StrictLoad, when any plugin fails to load (the error lists them all).
func New(ctx context.Context, cfg Config) (*Host, error) {
	cfg.setDefaults()
	if cfg.Outbound == nil {
		out, err := outbound.New(outbound.Config{Logger: cfg.Logger})
		if err != nil {
			return nil, err
		}
		cfg.Outbound = out
	}
	h := &Host{cfg: cfg, log: cfg.Logger.With().Str("component", "host").Logger(), epoch: time.Now(), rename: os.Rename}
	h.life, h.stop = context.WithCancel(context.WithoutCancel(ctx))
	h.deadlines = newCallDeadlines(h.epoch)
	go h.deadlines.run(h.life)
	h.errs.Store(&loadErrors{})
	rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(false).WithMemoryLimitPages(cfg.MaxMemoryPages)
	if cfg.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache %s: %w", cfg.CacheDir, err)
		}
		h.cache, rc = cache, rc.WithCompilationCache(cache)
		if cfg.PruneCache {
			h.cacheFiles = openCacheFiles(cfg.CacheDir, h.log, h.writeAtomic)
		}
	}
	h.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if err := h.instantiateHostModules(ctx); err != nil {
		h.closeRuntime(ctx)
		return nil, err
	}
	h.reg.Store(&registry{rpcs: map[string]*rpcEntry{}})
	h.incumbents = h.openIncumbents()
	if err := h.loadFirst(); err != nil {
		_ = h.Close(ctx)
		return nil, err
	}
	return h, nil
}

func (h *Host) instantiateHostModules(ctx context.Context) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, h.rt); err != nil {
		return fmt.Errorf("instantiate wasi: %w", err)
	}
	if err := instantiateABI(ctx, h.rt, h.stateOf); err != nil {
		return err
	}
	h.provided = map[string]map[string]api.FunctionDefinition{}
	for _, name := range []string{abi.ModuleName, abi.WASIModuleName} {
		h.provided[name] = h.rt.Module(name).ExportedFunctionDefinitions()
	}
	return nil
}

// stateOf returns the call state of the instance whose module is mod, or
// nil when mod is not a live instance (a start section running during
// instantiation). A host function called during a call gets the
// instance's callCtx as ctx, which holds the state: that spares the map
// lookup (an interface hash and compare) on every host call. Any other
// ctx, as during init, or a callCtx of another module, finds the state
// in the map.
func (h *Host) stateOf(ctx context.Context, mod api.Module) *callState {
	if cc, ok := ctx.(*callCtx); ok && cc.st != nil && cc.st.mod == mod {
		return cc.st
	}
	st, _ := h.states.Load(mod)
	cs, _ := st.(*callState)
	return cs
}

// Call runs one RPC: it finds the plugin that registered req.ID
// (case-insensitively), enforces the server-only guard, and runs the
// plugin's handler on a pooled instance under the call deadline.
//
// # Errors
//
// Every error is a *CallError: code 5 for an unknown id and 7 for a user
// call to a server-only RPC, both refusals (CallError.Refused); 4 past the
// deadline, 13 for a trap or panic, or the code the plugin set.
func (h *Host) Call(ctx context.Context, req *Request) (Result, error) {
	id := strings.ToLower(req.ID)
	for range maxLookups {
		reg := h.reg.Load()
		e := reg.rpcs[id]
		if e == nil {
			return Result{}, h.rpcNotFound(id)
		}
		if e.serverOnly && req.User != nil {
			return Result{}, &CallError{Code: abi.CodePermissionDenied, Refused: RefusedServerOnly,
				Plugin: e.plugin.Name, Version: e.plugin.Version}
		}
		if e.plugin.acquire() {
			return e.plugin.callAcquired(ctx, e, req)
		}
		if h.reg.Load() == reg {
			return Result{}, errUnavailable // closing: Close retires without a swap
		}
		// A reload swapped the plugin out after the lookup: look again.
	}
	return Result{}, errUnavailable
}

// maxLookups bounds how often a call looks its handler up again because
// reloads keep swapping it out. A reload swaps the registry before it
// retires the plugins it replaced, so a plugin found retired in the
// registry still current means the host is closing, and the call ends at
// once; a lookup lost to a reload is retried. Reloads back to back could
// beat three lookups in a row (one call in about a million under
// TestHost_Reload_hammer); sixteen they do not.
const maxLookups = 16

// errUnavailable answers calls while the host closes.
var errUnavailable = &CallError{Code: abi.CodeUnavailable, Refused: RefusedClosing}

// CallRoute runs the custom HTTP handler of r, a route from Routes, and
// no other: once a reload has retired r's plugin version, the call is
// refused (RefusedReplaced) and runs nothing. The caller then routes the
// request again in the current Routes and authenticates it for the route
// it finds there, which may differ from r in pattern, parameter names,
// plugin or session requirement; the host knows neither the router nor
// the authentication, so it does not pick a successor itself.
//
// # Errors
//
// As Call, and code 14 refused with RefusedReplaced for a route that a
// reload replaced.
func (h *Host) CallRoute(ctx context.Context, r *Route, req *Request) (Result, error) {
	e := r.entry
	if e.plugin.acquire() {
		return e.plugin.callAcquired(ctx, e, req)
	}
	// Every registry has Routes of its own, so r is in the current one
	// only when no reload swapped it out: Close retired it (as in Call).
	if slices.Contains(h.reg.Load().routes, r) {
		return Result{}, errUnavailable
	}
	return Result{}, &CallError{Code: abi.CodeUnavailable, Refused: RefusedReplaced, Plugin: r.Plugin, Version: r.Version}
}

// Routes returns the current plugin routes and the registry generation,
// which changes whenever a reload swaps the registry.
func (h *Host) Routes() ([]*Route, uint64) {
	reg := h.reg.Load()
	return reg.routes, reg.gen
}

// Plugins returns the loaded plugins, sorted by path.
func (h *Host) Plugins() []*Plugin {
	return slices.Clone(h.reg.Load().plugins)
}

// Close closes every plugin and the runtime. Calls still running are ended,
// and so is a load in progress; a reload still reading files applies
// nothing.
//
// # Errors
//
// It returns the runtime's or the cache's close error.
func (h *Host) Close(ctx context.Context) error {
	h.stop()
	h.interruptAll()
	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	if reg := h.reg.Load(); reg != nil {
		for _, p := range reg.plugins {
			p.retired.Store(true)
		}
		closePlugins(ctx, reg.plugins)
	}
	h.retiring.Wait()
	return h.closeRuntime(ctx)
}

func (h *Host) closeRuntime(ctx context.Context) error {
	err := h.rt.Close(ctx)
	if h.cache != nil {
		err = errors.Join(err, h.cache.Close(ctx))
	}
	return err
}

func closePlugins(ctx context.Context, plugins []*Plugin) {
	for _, p := range plugins {
		p.close(ctx)
	}
}
