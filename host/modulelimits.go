package host

import (
	"fmt"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/interrupt"
)

// tableName names a table in an error: "table 0" or "imported table
// env.t (table 0)".
func tableName(t interrupt.Table) string {
	if t.Module != "" || t.Name != "" {
		return fmt.Sprintf("imported table %s.%s (table %d)", t.Module, t.Name, t.Index)
	}
	return fmt.Sprintf("table %d", t.Index)
}

// checkModuleLimits refuses a module that declares d (as interrupt.Read
// found it in the original bytes) when d is more than the host bounds, as
// wazero allocates them for each instance: tables that could hold more
// than abi.MaxTableElements elements, alone or together (a table
// that declares no maximum, a larger one, or tables whose maxima add up to
// more), or more than abi.MaxGlobals globals, abi.MaxDataSegments data
// segments, abi.MaxElementSegments element segments or
// abi.MaxSegmentElements elements in them. wazero caps memories but none of
// these, and enforces a declared maximum on table.grow, so a declared
// maximum within the limit bounds what a table can cost.
//
// # Errors
//
// The error names the table or the count, and the limit.
func checkModuleLimits(d interrupt.Decls) error {
	if err := checkTables(d.Tables); err != nil {
		return err
	}
	for _, c := range []struct {
		n, limit uint64
		what     string
	}{
		{d.Globals, abi.MaxGlobals, "the module declares %d globals, more than the limit of %d (defined and imported together)"},
		{d.DataSegments, abi.MaxDataSegments, "the module declares %d data segments, more than the limit of %d"},
		{d.ElemSegments, abi.MaxElementSegments, "the module declares %d element segments, more than the limit of %d"},
		{d.Elements, abi.MaxSegmentElements, "the module's element segments hold %d elements together, more than the limit of %d"},
	} {
		if c.n > c.limit {
			return fmt.Errorf(c.what, c.n, c.limit)
		}
	}
	return nil
}

// checkTables refuses tables that could hold more than
// abi.MaxTableElements elements, alone or together.
func checkTables(tables []interrupt.Table) error {
	var total uint64
	for _, t := range tables {
		switch {
		case !t.HasMax:
			return fmt.Errorf("%s declares no maximum size; a plugin's tables must declare one of at most %d elements",
				tableName(t), abi.MaxTableElements)
		case t.Max > abi.MaxTableElements:
			return fmt.Errorf("%s declares a maximum of %d elements, more than the limit of %d",
				tableName(t), t.Max, abi.MaxTableElements)
		}
		total += uint64(t.Max)
	}
	if total > abi.MaxTableElements {
		// wazero allows 2^27 tables in a module, each within the limit.
		return fmt.Errorf("%d tables declare a maximum of %d elements together, more than the limit of %d",
			len(tables), total, abi.MaxTableElements)
	}
	return nil
}
