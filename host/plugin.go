package host

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/manifest"
	"github.com/warden-rpc/warden/outbound"
	"github.com/warden-rpc/warden/storage"
)

// Plugin is one loaded version of a plugin: its compiled module, its RPCs
// and its instance pool.
type Plugin struct {
	// Name is the file name without ".wasm".
	Name string
	// Version is the first 12 hex digits of the SHA-256 of the .wasm file.
	Version string
	// Path is where the plugin was loaded from.
	Path string
	// LoadedAt is when this version was loaded.
	LoadedAt time.Time

	host     *Host
	key      string // snapshotFile.key: the .wasm and the manifest
	compiled wazero.CompiledModule
	cacheKey string // cacheKey of the compiled code
	regs     []registration
	pool     *pool
	log      zerolog.Logger   // the host's lines about the plugin
	guestLog zerolog.Logger   // the plugin's own lines: log, stdout and stderr (Config.GuestLog)
	logs     *logBudget       // shared by log, stdout, stderr and http_request of all its instances
	db       storage.PluginDB // nil when the plugin has no database
	dbStats  *DBStats

	// From the manifest (manifest.Default without one): the call
	// timeout, the environment the plugin sees and its outbound client.
	manifest    *manifest.Manifest
	callTimeout time.Duration
	env         map[string]string
	http        *outbound.Client

	// refs counts calls in flight; retired is set once the plugin left the
	// registry, and drained is closed when the last call after that ends.
	refs      atomic.Int64
	retired   atomic.Bool
	drained   chan struct{}
	drainOnce sync.Once
	breaker   breaker
	// coolingDown is the error of every call the open breaker refuses,
	// made once: a crash-looping caller's refusals allocate nothing, so
	// they cannot load the garbage collector that other plugins share.
	coolingDown *CallError
}

// RPC describes one registered RPC.
type RPC struct {
	ID         string
	ServerOnly bool
}

// RPCs returns the plugin's RPCs in registration order.
func (p *Plugin) RPCs() []RPC {
	var out []RPC
	for _, r := range p.regs {
		if !r.HTTP {
			out = append(out, RPC{ID: r.ID, ServerOnly: r.Flags&abi.FlagServerOnly != 0})
		}
	}
	return out
}

// Routes returns the plugin's HTTP routes as "METHODS PATTERN", in
// registration order.
func (p *Plugin) Routes() []string {
	var out []string
	for _, r := range p.regs {
		if r.HTTP {
			out = append(out, r.Methods+" "+r.ID)
		}
	}
	return out
}

// acquire counts a call in; it returns false once p has been retired, and
// the caller must look the RPC up again in the new registry.
func (p *Plugin) acquire() bool {
	p.refs.Add(1)
	if p.retired.Load() {
		p.release()
		return false
	}
	return true
}

// release counts a call out.
func (p *Plugin) release() {
	if p.refs.Add(-1) == 0 && p.retired.Load() {
		p.drainOnce.Do(func() { close(p.drained) })
	}
}

// retire stops new calls, waits up to timeout for the calls in flight,
// then closes the plugin.
func (p *Plugin) retire(ctx context.Context, timeout time.Duration) {
	p.retired.Store(true)
	if p.refs.Load() == 0 {
		p.drainOnce.Do(func() { close(p.drained) })
	}
	select {
	case <-p.drained:
	case <-time.After(timeout):
		p.log.Warn().Int64("calls", p.refs.Load()).Msg("closing a retired plugin with calls still running")
	}
	p.close(ctx)
}

// Instances returns how many instances of this version are alive.
func (p *Plugin) Instances() int { return int(p.pool.live.Load()) }

// loadPlugin compiles the plugin f, under its manifest, validates it
// against the ABI and runs a probe instance's init to collect its RPCs.
//
// # Errors
//
// It fails when the file is malformed or declares more than the module
// limits, the manifest is refused, the file cannot be compiled, does not
// fit the ABI, or its init fails; the error names the plugin.
func (h *Host) loadPlugin(ctx context.Context, f snapshotFile) (*Plugin, error) {
	name := f.name
	p := &Plugin{Name: name, Version: f.version, Path: f.path, LoadedAt: time.Now(), host: h, key: f.key, drained: make(chan struct{}),
		breaker: breaker{threshold: int32(h.cfg.BreakerThreshold), cooldown: h.cfg.BreakerCooldown}}
	p.dbStats = h.statsFor(name)
	p.coolingDown = &CallError{Code: abi.CodeUnavailable, Refused: RefusedCoolingDown, Plugin: p.Name, Version: p.Version}
	p.log = h.log.With().Str("plugin", p.Name).Str("plugin_version", p.Version).Logger()
	p.guestLog = p.log
	if h.cfg.GuestLog != nil {
		p.guestLog = p.log.Output(h.cfg.GuestLog(name))
	}
	p.logs = newLogBudget(&p.log)
	// One read of the bytes: the limits are checked on the original's
	// counts before the rewrite and before wazero allocates by them.
	mod, err := readModule(f.wasm)
	if err == nil {
		err = h.applyManifest(p, f, mod)
	}
	if err == nil {
		p.compiled, p.cacheKey, err = h.compile(ctx, mod)
	}
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", name, err)
	}
	if err := validate(p.compiled, h.provided); err != nil {
		_ = p.compiled.Close(ctx)
		return nil, fmt.Errorf("plugin %s: %w", name, err)
	}
	if err := h.openDB(ctx, p); err != nil {
		_ = p.compiled.Close(ctx)
		return nil, fmt.Errorf("plugin %s: %w", name, err)
	}
	p.pool = newPool(p.manifest.Limits.Instances, p.newInstance)
	probe, err := p.newInstance(ctx)
	if err != nil {
		p.closeDB()
		_ = p.compiled.Close(ctx)
		return nil, fmt.Errorf("plugin %s: %w", name, err)
	}
	p.regs = probe.st.regs
	if p.regs == nil {
		p.regs = []registration{}
	}
	p.pool.add(ctx, probe)
	return p, nil
}

// pluginName is a plugin's name: its file name without ".wasm".
func pluginName(path string) string { return strings.TrimSuffix(filepath.Base(path), ".wasm") }

// version is a plugin version, as shown: 12 hex digits of the SHA-256 of
// its bytes. What tells two plugin files apart is the whole hash
// (snapshotKey).
func version(wasm []byte) string { return fullHash(wasm)[:12] }

// callAcquired runs call for a call that acquire counted in, and counts it
// out.
func (p *Plugin) callAcquired(ctx context.Context, e *rpcEntry, req *Request) (Result, error) {
	defer p.release()
	return p.call(ctx, e, req)
}

// call runs one RPC of p under the host's deadline.
func (p *Plugin) call(ctx context.Context, e *rpcEntry, req *Request) (Result, error) {
	if !p.breaker.allow() {
		return Result{}, p.coolingDown
	}
	// The caller's clock reading when it has one, else one monotonic clock
	// read (time.Since) where time.Now reads the wall clock too, and none
	// more unless getting the instance took time.
	timeout := p.callTimeout // the manifest's call_timeout, or the server's
	var deadline time.Time
	if req.Start.IsZero() {
		deadline = p.host.epoch.Add(time.Since(p.host.epoch) + timeout)
	} else {
		deadline = req.Start.Add(timeout)
	}
	inst, fast, err := p.pool.get(ctx, deadline)
	if err != nil {
		if ie := (instantiateError{}); errors.As(err, &ie) && ctx.Err() == nil {
			// An init that failed or spun to its deadline costs as much as
			// a handler that did: the breaker counts it.
			p.breaker.record(true, &p.log)
		}
		return Result{}, p.acquireError(ctx, err)
	}
	if !fast {
		timeout = time.Until(deadline)
	}
	cc := inst.cc
	cc.start(ctx, deadline, timeout)
	res, healthy, err := inst.call(cc, e, req)
	if cerr := cc.Err(); cerr == nil || errors.Is(cerr, context.DeadlineExceeded) {
		// A client that went away says nothing about the plugin.
		p.breaker.record(!healthy, &p.log)
	}
	if !cc.stop() {
		healthy = false // its deadline passed: the context is spent
	}
	if healthy && inst.mod.Memory() != nil && inst.mod.Memory().Size() > p.host.cfg.HighWaterBytes {
		healthy = false // memory never shrinks: recycle instances that grew
	}
	if healthy && inst.stackGrown() {
		healthy = false // nor does wazero's call stack
	}
	p.pool.put(context.Background(), inst, healthy && !inst.mod.IsClosed()) // closing must not depend on the call's deadline
	return res, err
}

// acquireError is the CallError for a call that got no instance.
func (p *Plugin) acquireError(ctx context.Context, err error) *CallError {
	ce := &CallError{Code: abi.CodeInternal, Message: "plugin could not start", Plugin: p.Name, Version: p.Version, Err: err}
	var ui unavailableInit
	switch {
	case errors.As(err, &ui):
		ce.Code = abi.CodeUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		ce.Code, ce.Message = abi.CodeDeadlineExceeded, "rpc exceeded its deadline waiting for an instance"
	case ctx.Err() != nil:
		ce.Code, ce.Message = abi.CodeCanceled, "rpc canceled"
	}
	return ce
}

// close drains the pool and releases the compiled module.
func (p *Plugin) close(ctx context.Context) {
	p.pool.close(ctx)
	_ = p.compiled.Close(ctx) // safe with calls still running on instances
	p.closeDB()
	p.http.Close()
	p.logs.close()
}
