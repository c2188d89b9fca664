package host

import "sync/atomic"

// Observer is told of the host's events, for metrics; a nil Observer costs
// nothing. Its methods must not block.
type Observer interface {
	// PluginReloaded is called for each plugin a load, reload or deploy
	// loaded (ok), and for each file that newly failed to load (not ok),
	// by plugin name.
	PluginReloaded(plugin string, ok bool)
}

// BreakerOpen reports whether the plugin's circuit breaker refuses its
// calls now, after repeated crashes.
func (p *Plugin) BreakerOpen() bool { return !p.breaker.allow() }

// Generation returns the generation of the serving set of plugins: it
// grows with every change to it.
func (h *Host) Generation() uint64 { return h.reg.Load().gen }

// observeResult tells the observer what a reload loaded and what newly
// failed.
func (h *Host) observeResult(res *ReloadResult, fresh []LoadError) {
	if h.cfg.Observer == nil {
		return
	}
	for _, name := range res.Loaded {
		h.cfg.Observer.PluginReloaded(name, true)
	}
	for _, f := range fresh {
		h.cfg.Observer.PluginReloaded(f.Plugin, false)
	}
}

// DBStats counts a plugin's database statements (db_exec and db_query
// calls that reached the engine) and those that failed, across all its
// versions, for metrics.
type DBStats struct {
	statements atomic.Uint64
	errors     atomic.Uint64
}

// Statements returns how many statements ran.
func (s *DBStats) Statements() uint64 { return s.statements.Load() }

// Errors returns how many statements failed.
func (s *DBStats) Errors() uint64 { return s.errors.Load() }

func (s *DBStats) count(err error) {
	if s == nil { // a Plugin made without loadPlugin, in tests
		return
	}
	s.statements.Add(1)
	if err != nil {
		s.errors.Add(1)
	}
}

// statsFor returns the database counters of the plugin named name.
func (h *Host) statsFor(name string) *DBStats {
	if s, ok := h.dbStats.Load(name); ok {
		return s.(*DBStats)
	}
	s, _ := h.dbStats.LoadOrStore(name, &DBStats{})
	return s.(*DBStats)
}

// DBStats returns the plugin's database counters, shared by all its
// versions.
func (p *Plugin) DBStats() *DBStats { return p.dbStats }

// MemoryBytes returns the linear memory of the plugin's live instances, in
// bytes, as of their last return to the pool.
func (p *Plugin) MemoryBytes() int64 { return p.pool.mem.Load() }

// track counts inst's current memory size in the pool's total.
func (pl *pool) track(inst *instance) {
	var size int64
	if inst.mod != nil {
		if m := inst.mod.Memory(); m != nil {
			size = int64(m.Size())
		}
	}
	pl.mem.Add(size - inst.memBytes)
	inst.memBytes = size
}
