package storage

import (
	"context"
	"fmt"
	"time"
)

// Migration is one step of Warden's schema. Its SQL is trusted: it runs on
// the writer without the plugin policy and may hold several statements.
type Migration struct {
	// Version orders migrations; it is positive and unique.
	Version int
	// Name describes the migration.
	Name string
	// SQL is the script to run.
	SQL string
}

// createMigrations creates the table recording applied migrations;
// applied_at is Unix time in milliseconds.
const createMigrations = `CREATE TABLE IF NOT EXISTS warden_schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// Migrate applies, in order, the migrations not yet recorded in the table
// warden_schema_migrations, each in its own BEGIN IMMEDIATE transaction
// together with its record. Running it again is a no-op.
//
// # Errors
//
// An error if the versions are not positive and strictly increasing, or if
// a migration fails; the failing migration is rolled back and the ones
// before it stay applied.
func (db *DB) Migrate(ctx context.Context, migrations []Migration) error {
	if db.closed.Load() {
		return fmt.Errorf("migrate: %w", ErrClosed)
	}
	for i, m := range migrations {
		if m.Version <= 0 || (i > 0 && m.Version <= migrations[i-1].Version) {
			return fmt.Errorf("migrate: version %d (%s) is not positive and increasing", m.Version, m.Name)
		}
	}
	if _, err := db.writer.ExecContext(ctx, createMigrations); err != nil {
		return fmt.Errorf("migrate: %w", classify(err))
	}
	for _, m := range migrations {
		if err := db.migrate(ctx, m); err != nil {
			return fmt.Errorf("migrate %d %s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// migrate applies m unless it is already recorded.
func (db *DB) migrate(ctx context.Context, m Migration) error {
	tx, err := db.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE, see writerDSN
	if err != nil {
		return classify(err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	var applied int
	err = tx.QueryRowContext(ctx, "SELECT count(*) FROM warden_schema_migrations WHERE version = ?", m.Version).Scan(&applied)
	if err != nil || applied > 0 {
		return classify(err)
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return classify(err)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO warden_schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
		m.Version, m.Name, time.Now().UnixMilli())
	if err != nil {
		return classify(err)
	}
	return classify(tx.Commit())
}
