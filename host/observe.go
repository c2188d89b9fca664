package host

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
