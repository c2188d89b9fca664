package host

import (
	"fmt"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/interrupt"
	"github.com/warden-rpc/warden/manifest"
	"github.com/warden-rpc/warden/outbound"
)

// maxima are the server's bounds on what a manifest may set.
func (h *Host) maxima() manifest.Maxima {
	timeout, reqBytes, respBytes := h.cfg.Outbound.Maxima()
	return manifest.Maxima{
		MemoryMiB:         int(h.cfg.MaxMemoryPages / abi.PagesPerMiB),
		CallTimeout:       h.cfg.CallTimeout,
		Instances:         h.cfg.MaxInstances,
		HTTPTimeout:       timeout,
		HTTPRequestBytes:  reqBytes,
		HTTPResponseBytes: respBytes,
	}
}

// applyManifest parses f's manifest (the defaults without one) into p: its
// call timeout, environment and outbound client. When the manifest lowers
// memory_mib below the server's cap, it caps the memories of mod, f's
// module as readModule read it, for compile to write.
//
// # Errors
//
// It fails when the manifest is refused, or the module's initial memory is
// over the manifest's memory_mib; the error names the manifest file.
func (h *Host) applyManifest(p *Plugin, f snapshotFile, mod *interrupt.Module) error {
	max := h.maxima()
	m := manifest.Default(max)
	if f.manifest != nil {
		var err error
		if m, err = manifest.Parse(f.manifest, max); err != nil {
			return fmt.Errorf("manifest %s: %w", f.name+manifest.Ext, err)
		}
	}
	if m.Limits.MemoryMiB < max.MemoryMiB {
		if err := mod.CapMemory(uint32(m.Limits.MemoryMiB * abi.PagesPerMiB)); err != nil {
			return fmt.Errorf("manifest %s: memory_mib %d: %w", f.name+manifest.Ext, m.Limits.MemoryMiB, err)
		}
	}
	p.manifest, p.callTimeout = m, m.Limits.CallTimeout.Duration
	p.env = m.FilterEnv(h.cfg.Env)
	cc := outbound.ClientConfig{
		Plugin:           p.Name,
		Policy:           m.Policy,
		Timeout:          m.HTTP.Timeout.Duration,
		MaxRequestBytes:  m.HTTP.MaxRequestBytes,
		MaxResponseBytes: m.HTTP.MaxResponseBytes,
		// A line per request the plugin sends: its own lines, as its log
		// calls are, out of its log budget.
		AllowLine: p.logs.take,
	}
	if h.cfg.GuestLog != nil {
		// And under its share of the console's ring.
		cc.Output = h.cfg.GuestLog(p.Name)
	}
	p.http = h.cfg.Outbound.NewClient(cc)
	return nil
}

// Grants returns the origins the plugin's manifest grants it for outbound
// HTTP, as written; none without a manifest.
func (p *Plugin) Grants() []string { return p.manifest.Policy.Grants() }
