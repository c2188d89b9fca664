package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MoveReport is what MoveTables did.
type MoveReport struct {
	// Moved lists the tables and views moved into their plugin's file.
	Moved []MovedTable
	// Kept lists those left in Warden's database, each with the reason.
	Kept []KeptTable
}

// MovedTable is a table or view moved to Plugin's database.
type MovedTable struct {
	Name, Plugin string
}

// KeptTable is a table or view left in Warden's database. Plugin is its
// owner, or "" when no plugin owns it.
type KeptTable struct {
	Name, Plugin, Reason string
}

// Reasons of KeptTable.
const (
	keptUnowned  = "no plugin's name is a prefix of it"
	keptConflict = "the plugin's database already has a table or view of that name with other content"
	keptVirtual  = "virtual tables are not moved"
	keptHeld     = "it is the table of a plugin whose file is not at a plugin's place: it moves once the file is"
)

// schemaObject is a table or view of the source database, with the
// indexes and triggers that belong to it.
type schemaObject struct {
	kind, name, sql string
	dependents      []string // CREATE INDEX and CREATE TRIGGER statements
}

// MoveTables moves plugins' tables out of Warden's database from, as the
// layout before one database per plugin left them, into each plugin's own
// file in d. A table or view belongs to the plugin whose name, followed by
// '_', is the longest prefix of its name, matching case exactly, else
// the longest ignoring ASCII case; Warden's own
// (warden_*) and SQLite's (sqlite_*) stay.
//
// Each object moves in two steps: one transaction in the plugin's file
// creates it and copies its rows exactly (rowids, values and their types,
// the AUTOINCREMENT counter), then its indexes and triggers; once that has
// committed, a second transaction drops it from Warden's. A crash between
// the two leaves it in both, with the same content: the next run sees that
// and only drops it. An object already in the plugin's file with other
// content is never overwritten: it is kept, and reported. Running
// MoveTables again is a no-op. No plugin may run while it does.
//
// # Errors
//
// An error if a statement fails; the objects moved before it stay moved,
// and the one it was moving is in Warden's database still.
func (d *Dir) MoveTables(ctx context.Context, from *DB, plugins []string) (MoveReport, error) {
	return d.MoveTablesHolding(ctx, from, plugins, nil)
}

// MoveTablesHolding is MoveTables where held are the names of plugins
// that are not loaded yet but own their tables still (a plugin file the
// host refuses for its place, until the operator moves it): a table
// whose owner, among plugins and held, is a held name that plugins does
// not have is kept, and reported, so that it goes neither to a shorter
// name's plugin nor to a database no plugin loads.
func (d *Dir) MoveTablesHolding(ctx context.Context, from *DB, plugins, held []string) (MoveReport, error) {
	var rep MoveReport
	objs, err := listObjects(ctx, from.Writer())
	if err != nil {
		return rep, fmt.Errorf("move tables: %w", err)
	}
	owners := ownerNames(slices.Concat(plugins, held))
	for _, o := range objs {
		plugin := owner(o.name, owners)
		switch {
		case plugin == "":
			rep.Kept = append(rep.Kept, KeptTable{Name: o.name, Reason: keptUnowned})
		case !slices.Contains(plugins, plugin):
			rep.Kept = append(rep.Kept, KeptTable{Name: o.name, Plugin: plugin, Reason: keptHeld})
		case strings.HasPrefix(strings.ToUpper(o.sql), "CREATE VIRTUAL"):
			rep.Kept = append(rep.Kept, KeptTable{Name: o.name, Plugin: plugin, Reason: keptVirtual})
		default:
			moved, err := d.move(ctx, from.Path(), plugin, o)
			if err != nil {
				return rep, fmt.Errorf("move %s %s to plugin %s: %w", o.kind, o.name, plugin, err)
			}
			if !moved {
				rep.Kept = append(rep.Kept, KeptTable{Name: o.name, Plugin: plugin, Reason: keptConflict})
				continue
			}
			rep.Moved = append(rep.Moved, MovedTable{Name: o.name, Plugin: plugin})
		}
	}
	return rep, nil
}

// listObjects lists the tables, then the views, of the database that are
// neither Warden's nor SQLite's.
func listObjects(ctx context.Context, q *sql.DB) ([]*schemaObject, error) {
	rows, err := q.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_schema
WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE 'warden\_%' ESCAPE '\'
ORDER BY type = 'view', name`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var objs []*schemaObject
	for rows.Next() {
		o := &schemaObject{}
		if err := rows.Scan(&o.kind, &o.name, &o.sql); err != nil {
			return nil, classify(err)
		}
		objs = append(objs, o)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	for _, o := range objs {
		if o.dependents, err = dependents(ctx, q, o.name); err != nil {
			return nil, err
		}
	}
	return objs, nil
}

// dependents returns the CREATE statements of the indexes, then the
// triggers, on the table or view name (automatic indexes have none).
func dependents(ctx context.Context, q *sql.DB, name string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT sql FROM sqlite_schema
WHERE type IN ('index', 'trigger') AND tbl_name = ? AND sql IS NOT NULL ORDER BY type, name`, name)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, classify(err)
		}
		out = append(out, s)
	}
	return out, classify(rows.Err())
}

// ownerNames returns the valid plugin names, longest first.
func ownerNames(plugins []string) []string {
	var out []string
	for _, p := range plugins {
		if CheckPluginName(p) == nil {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	return out
}

// owner returns the plugin that owns the object name, or "": the longest
// plugin name that, followed by '_', is an exact prefix of name, else the
// longest that is one ignoring ASCII case. So with plugins A and a, a_t is
// a's, not A's.
func owner(name string, plugins []string) string {
	for _, match := range []func(a, b string) bool{func(a, b string) bool { return a == b }, strings.EqualFold} {
		for _, p := range plugins {
			if len(name) > len(p)+1 && match(name[:len(p)+1], p+"_") {
				return p
			}
		}
	}
	return ""
}

// quote quotes an SQL identifier.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// errConflict reports that the target holds another object of that name.
var errConflict = errors.New("conflict")
