package host

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero"

	"github.com/warden-rpc/warden/abi"
)

// openDB gives p its database when the host has databases and p imports a
// function that needs one (db_exec, db_query or db_begin): a plugin that
// never touches the database costs no file, connection or goroutine. Every
// version of a plugin gets the same database, by name.
//
// # Errors
//
// The engine's error, for instance for a name that cannot name a database.
func (h *Host) openDB(ctx context.Context, p *Plugin) error {
	if h.cfg.Databases == nil || !usesDB(p.compiled) {
		return nil
	}
	db, err := h.cfg.Databases.ForPlugin(ctx, p.Name)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	p.db = db
	return nil
}

// closeDB releases p's database handle, if it has one.
func (p *Plugin) closeDB() {
	if p.db == nil {
		return
	}
	if err := p.db.Close(); err != nil {
		p.log.Error().Err(err).Msg("close plugin database")
	}
}

// usesDB reports whether m imports a warden_v1 function that runs SQL.
func usesDB(m wazero.CompiledModule) bool {
	for _, f := range m.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod == abi.ModuleName && (name == abi.FuncDBExec || name == abi.FuncDBQuery || name == abi.FuncDBBegin) {
			return true
		}
	}
	return false
}
