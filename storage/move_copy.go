package storage

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
)

// move moves o from the database file src into plugin's file, in two
// transactions (see MoveTables), on a connection of its own to the
// plugin's file with src attached; no plugin ever uses that connection,
// which is closed on return. moved is false when the plugin's file holds
// another object of that name.
func (d *Dir) move(ctx context.Context, src, plugin string, o *schemaObject) (moved bool, err error) {
	path, err := d.Path(plugin)
	if err != nil {
		return false, err
	}
	pool, err := sql.Open("sqlite", dsn(path, d.opts, "", "journal_mode(WAL)"))
	if err != nil {
		return false, err
	}
	defer func() { err = errors.Join(err, pool.Close()) }()
	c, err := pool.Conn(ctx)
	if err != nil {
		return false, classify(err)
	}
	defer func() { err = errors.Join(err, c.Close()) }()
	// Rows are copied as they are, in any order of the tables: foreign
	// keys are not checked while copying, nor when dropping.
	if _, err := c.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return false, classify(err)
	}
	if _, err := c.ExecContext(ctx, "ATTACH DATABASE ? AS src", src); err != nil {
		return false, classify(err)
	}
	err = inTx(ctx, c, func() error { return copyObject(ctx, c, o) })
	if errors.Is(err, errConflict) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	err = inTx(ctx, c, func() error {
		_, err := c.ExecContext(ctx, "DROP "+strings.ToUpper(o.kind)+" src."+quote(o.name))
		return err
	})
	return err == nil, err
}

// inTx runs fn in a BEGIN IMMEDIATE transaction on c, committed if fn
// succeeds and rolled back if it fails.
func inTx(ctx context.Context, c *sql.Conn, fn func() error) error {
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return classify(err)
	}
	if err := fn(); err != nil {
		_, rbErr := c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return errors.Join(classify(err), rbErr)
	}
	_, err := c.ExecContext(ctx, "COMMIT")
	return classify(err)
}

// copyObject creates o in main and copies its rows from src, then creates
// its indexes and triggers (after the rows, so that no trigger fires on
// the copy). When main holds o already with the same definition and rows
// (a move interrupted after its copy), it does nothing; when main holds
// anything else of that name, it returns errConflict.
func copyObject(ctx context.Context, c *sql.Conn, o *schemaObject) error {
	var kind, def sql.NullString
	err := c.QueryRowContext(ctx, "SELECT type, sql FROM main.sqlite_schema WHERE name = ? COLLATE NOCASE", o.name).Scan(&kind, &def)
	switch {
	case err == nil:
		if kind.String != o.kind || def.String != o.sql {
			return errConflict
		}
		if o.kind == "table" {
			return sameRows(ctx, c, o.name)
		}
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if _, err := c.ExecContext(ctx, o.sql); err != nil {
		return err
	}
	if o.kind == "table" {
		if err := copyRows(ctx, c, o); err != nil {
			return err
		}
	}
	for _, s := range o.dependents {
		if _, err := c.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// copyRows copies the rows of table o from src to main, and its
// AUTOINCREMENT counter.
func copyRows(ctx context.Context, c *sql.Conn, o *schemaObject) error {
	cols, err := columnList(ctx, c, o.name)
	if err != nil {
		return err
	}
	q := quote(o.name)
	if _, err := c.ExecContext(ctx, "INSERT INTO main."+q+" ("+cols+") SELECT "+cols+" FROM src."+q); err != nil {
		return err
	}
	if !strings.Contains(strings.ToUpper(o.sql), "AUTOINCREMENT") {
		return nil
	}
	var seq int64
	err = c.QueryRowContext(ctx, "SELECT seq FROM src.sqlite_sequence WHERE name = ?", o.name).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, "DELETE FROM main.sqlite_sequence WHERE name = ?", o.name); err != nil {
		return err
	}
	_, err = c.ExecContext(ctx, "INSERT INTO main.sqlite_sequence (name, seq) VALUES (?, ?)", o.name, seq)
	return err
}

// sameRows returns errConflict unless table name has the same rows in main
// and src.
func sameRows(ctx context.Context, c *sql.Conn, name string) error {
	cols, err := columnList(ctx, c, name)
	if err != nil {
		return err
	}
	q := quote(name)
	var same bool
	err = c.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM main."+q+") = (SELECT count(*) FROM src."+q+") AND NOT EXISTS (SELECT "+
		cols+" FROM main."+q+" EXCEPT SELECT "+cols+" FROM src."+q+")").Scan(&same)
	if err != nil {
		return err
	}
	if !same {
		return errConflict
	}
	return nil
}

// columnList returns the quoted, comma-separated columns of table name in
// src that hold stored values (generated columns are computed again),
// preceded by the rowid unless the table has none, or an INTEGER PRIMARY
// KEY column already is it.
func columnList(ctx context.Context, c *sql.Conn, name string) (string, error) {
	rows, err := c.QueryContext(ctx, "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?, 'src')", name)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var cols, all []string
	pks, intPK := 0, false
	for rows.Next() {
		var col, typ string
		var pk, hidden int
		if err := rows.Scan(&col, &typ, &pk, &hidden); err != nil {
			return "", err
		}
		all = append(all, col)
		if hidden == 0 {
			cols = append(cols, quote(col))
		}
		if pk > 0 {
			pks++
			intPK = strings.EqualFold(typ, "INTEGER")
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	var withoutRowid bool
	err = c.QueryRowContext(ctx, "SELECT wr FROM pragma_table_list WHERE schema = 'src' AND name = ?", name).Scan(&withoutRowid)
	if err != nil {
		return "", err
	}
	if !withoutRowid && !(pks == 1 && intPK) {
		if r := rowidAlias(all); r != "" {
			cols = append([]string{r}, cols...)
		}
	}
	return strings.Join(cols, ", "), nil
}

// rowidAlias returns a name of the rowid that no column shadows, or "".
func rowidAlias(cols []string) string {
	for _, r := range []string{"rowid", "_rowid_", "oid"} {
		if !slices.ContainsFunc(cols, func(c string) bool { return strings.EqualFold(c, r) }) {
			return r
		}
	}
	return ""
}
