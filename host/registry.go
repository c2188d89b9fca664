package host

import (
	"fmt"

	"github.com/warden-rpc/warden/abi"
)

// registry maps lowercased RPC ids to the plugin version that serves them.
// It is immutable once built; the host swaps whole registries.
type registry struct {
	rpcs    map[string]*rpcEntry
	plugins []*Plugin
}

// rpcEntry is one RPC of one plugin version.
type rpcEntry struct {
	id         string
	plugin     *Plugin
	handlerID  int32
	serverOnly bool
}

// newRegistry builds a registry from plugins.
//
// # Errors
//
// It fails when two plugins register the same id or share a name; the error
// names both.
func newRegistry(plugins []*Plugin) (*registry, error) {
	reg := &registry{rpcs: map[string]*rpcEntry{}, plugins: plugins}
	names := map[string]*Plugin{}
	for _, p := range plugins {
		if other, ok := names[p.Name]; ok {
			return nil, fmt.Errorf("plugins %s and %s have the same name %q", other.Path, p.Path, p.Name)
		}
		names[p.Name] = p
		for _, r := range p.regs {
			if other, ok := reg.rpcs[r.ID]; ok {
				return nil, fmt.Errorf("rpc %q is registered by both plugin %s and plugin %s", r.ID, other.plugin.Name, p.Name)
			}
			reg.rpcs[r.ID] = &rpcEntry{id: r.ID, plugin: p, handlerID: r.HandlerID, serverOnly: r.Flags&abi.FlagServerOnly != 0}
		}
	}
	return reg, nil
}
