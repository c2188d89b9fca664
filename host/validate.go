package host

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/warden-rpc/warden/abi"
)

// requiredExports are the functions every plugin exports, with their types.
var requiredExports = []struct {
	name            string
	params, results []api.ValueType
}{
	{abi.ExportMarker, nil, nil},
	{abi.ExportInit, nil, []api.ValueType{api.ValueTypeI32}},
	{abi.ExportHandle, []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
}

// validate checks a compiled plugin against the ABI before it is
// instantiated: required exports with their types, an exported memory, and
// imports that the host provides with the exact types. provided maps module
// name to that module's function definitions.
//
// # Errors
//
// The error names the first missing export or unknown import.
func validate(cm wazero.CompiledModule, provided map[string]map[string]api.FunctionDefinition) error {
	exports := cm.ExportedFunctions()
	for _, want := range requiredExports {
		def, ok := exports[want.name]
		if !ok {
			return fmt.Errorf("missing export %s%s (is it built for ABI v%d?)", want.name, signature(want.params, want.results), abi.Major)
		}
		if !sameTypes(def, want.params, want.results) {
			return fmt.Errorf("export %s has type %s, want %s", want.name,
				signature(def.ParamTypes(), def.ResultTypes()), signature(want.params, want.results))
		}
	}
	if def, ok := exports[abi.ExportInitialize]; ok && !sameTypes(def, nil, nil) {
		return fmt.Errorf("export %s must have type () -> ()", abi.ExportInitialize)
	}
	if _, ok := cm.ExportedMemories()[abi.ExportMemory]; !ok {
		return fmt.Errorf("missing export %q memory", abi.ExportMemory)
	}
	if mems := cm.ImportedMemories(); len(mems) > 0 {
		mod, name, _ := mems[0].Import()
		return fmt.Errorf("imports memory %s.%s; plugins must export their own", mod, name)
	}
	for _, imp := range cm.ImportedFunctions() {
		if err := checkImport(imp, provided); err != nil {
			return err
		}
	}
	return nil
}

func checkImport(imp api.FunctionDefinition, provided map[string]map[string]api.FunctionDefinition) error {
	mod, name, _ := imp.Import()
	sig := signature(imp.ParamTypes(), imp.ResultTypes())
	funcs, ok := provided[mod]
	if !ok {
		return fmt.Errorf("imports %s.%s %s from module %q, which Warden does not provide (ABI %s provides %s)%s",
			mod, name, sig, mod, abi.Version, strings.Join(sortedKeys(provided), ", "), importHint(mod, name))
	}
	def, ok := funcs[name]
	if !ok {
		return fmt.Errorf("imports %s.%s %s, which ABI %s does not have", mod, name, sig, abi.Version)
	}
	if !sameTypes(def, imp.ParamTypes(), imp.ResultTypes()) {
		return fmt.Errorf("imports %s.%s with type %s, want %s", mod, name, sig,
			signature(def.ParamTypes(), def.ResultTypes()))
	}
	return nil
}

func sameTypes(def api.FunctionDefinition, params, results []api.ValueType) bool {
	return slices.Equal(def.ParamTypes(), params) && slices.Equal(def.ResultTypes(), results)
}

func signature(params, results []api.ValueType) string {
	return "(" + typeList(params) + ") -> (" + typeList(results) + ")"
}

func typeList(ts []api.ValueType) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = api.ValueTypeName(t)
	}
	return strings.Join(names, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// importHint says how to fix a known unknown import, or is empty.
func importHint(mod, name string) string {
	if mod == "env" && name == "abort" {
		return `; AssemblyScript imports env.abort unless built with the SDK's asconfig.json ` +
			`("extends": "warden-sdk/asconfig.json" in the plugin's asconfig.json routes abort to warden_v1.panic; ` +
			`see sdk/assemblyscript/README.md)`
	}
	return ""
}
