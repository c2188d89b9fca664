package host

import (
	"fmt"
	"strings"

	"github.com/warden-rpc/warden/abi"
)

// registry maps lowercased RPC ids, and HTTP routes, to the plugin version
// that serves them. It is immutable once built; the host swaps whole
// registries, so a call sees one consistent set of plugins.
type registry struct {
	gen     uint64
	rpcs    map[string]*rpcEntry
	routes  []*Route
	plugins []*Plugin
}

// rpcEntry is one RPC or HTTP handler of one plugin version.
type rpcEntry struct {
	id         string
	plugin     *Plugin
	handlerID  int32
	serverOnly bool
	route      *Route
}

// RouteChecker checks the complete set of plugin routes against the routes
// the server serves itself and against each other. The HTTP API provides
// it; the host calls it before a set of plugins can serve.
type RouteChecker func(routes []*Route) error

// registryBuilder adds plugins one at a time, so that a conflict is pinned
// on the plugin that caused it.
type registryBuilder struct {
	reg   *registry
	check RouteChecker
}

func newRegistryBuilder(gen uint64, check RouteChecker) *registryBuilder {
	return &registryBuilder{reg: &registry{gen: gen, rpcs: map[string]*rpcEntry{}}, check: check}
}

// add adds p's RPCs and routes, or nothing when they conflict.
//
// # Errors
//
// It fails when p shares a name with a plugin already added, registers an
// RPC id or route another plugin has, or its routes fail the check; the
// error names both plugins or the path.
func (b *registryBuilder) add(p *Plugin) error {
	reg := b.reg
	for _, other := range reg.plugins {
		if other.Name == p.Name {
			return fmt.Errorf("plugins %s and %s have the same name %q", other.Path, p.Path, p.Name)
		}
	}
	rpcs := map[string]*rpcEntry{}
	var routes []*Route
	for _, r := range p.regs {
		e := &rpcEntry{id: r.ID, plugin: p, handlerID: r.HandlerID, serverOnly: r.Flags&abi.FlagServerOnly != 0}
		if !r.HTTP {
			if other, ok := reg.rpcs[r.ID]; ok {
				return fmt.Errorf("rpc %q is registered by both plugin %s and plugin %s", r.ID, other.plugin.Name, p.Name)
			}
			rpcs[r.ID] = e
			continue
		}
		if other := findRoute(reg.routes, r.ID, r.Methods); other != nil {
			return fmt.Errorf("route %s %s is registered by both plugin %s and plugin %s", r.Methods, r.ID, other.Plugin, p.Name)
		}
		e.route = &Route{Plugin: p.Name, Version: p.Version, Pattern: r.ID, Methods: strings.Split(r.Methods, ","),
			SessionRequired: r.Flags&abi.FlagSessionRequired != 0, entry: e}
		routes = append(routes, e.route)
	}
	all := append(append([]*Route{}, reg.routes...), routes...)
	if b.check != nil && len(routes) > 0 {
		if err := b.check(all); err != nil {
			return fmt.Errorf("plugin %s: %w", p.Name, err)
		}
	}
	for id, e := range rpcs {
		reg.rpcs[id] = e
	}
	reg.routes = all
	reg.plugins = append(reg.plugins, p)
	return nil
}

// findRoute returns the route in routes with pattern and a method in
// methods, or nil.
func findRoute(routes []*Route, pattern, methods string) *Route {
	for _, r := range routes {
		if r.Pattern == pattern && overlaps(strings.Join(r.Methods, ","), methods) {
			return r
		}
	}
	return nil
}
