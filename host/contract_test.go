package host

import (
	"slices"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// TestHost_contract checks that the warden_v1 module the host instantiates
// has exactly abi.Imports(), with the same types. ABI.md and the SDKs are
// checked against abi.Imports() in package abi.
func TestHost_contract(t *testing.T) {
	h := newTestHost(t, pluginDir(t), nil)
	got := h.provided[abi.ModuleName]
	want := abi.Imports()
	if len(got) != len(want) {
		t.Errorf("host registers %d functions, abi.Imports() has %d", len(got), len(want))
	}
	for _, f := range want {
		def, ok := got[f.Name]
		if !ok {
			t.Errorf("host does not register %s", f.Name)
			continue
		}
		if !slices.Equal(def.ParamTypes(), valueTypes(f.Params)) || !slices.Equal(def.ResultTypes(), valueTypes(f.Results)) {
			t.Errorf("%s: host type %s, abi %s", f.Name, signature(def.ParamTypes(), def.ResultTypes()),
				signature(valueTypes(f.Params), valueTypes(f.Results)))
		}
	}
	if len(hostFuncs()) != len(want) {
		t.Errorf("hostFuncs() has %d entries, abi.Imports() %d", len(hostFuncs()), len(want))
	}
}
