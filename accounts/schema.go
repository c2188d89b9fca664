package accounts

import "github.com/warden-rpc/warden/storage"

// migrations create the accounts tables. Versions 100 to 199 belong to this
// package: storage.Migrate records versions in one table for all of
// Warden, so each package keeps to its own range.
//
// The SQL is portable to PostgreSQL apart from BLOB (BYTEA there): TEXT,
// BIGINT, no AUTOINCREMENT, no SQLite-only syntax. Times are Unix seconds.
// A NULL custom_id or email means none; UNIQUE allows many NULLs in both
// databases.
//
// In warden_session_revocations, a row with an empty token_id revokes every
// token of the user issued at or before revoked_at (a logout with no token, as in
// Nakama); other rows revoke one token ID, which a session token and its
// refresh token share. expires_at is when the row may be pruned: no token it
// covers can still be valid then.
var migrations = []storage.Migration{
	{Version: 100, Name: "accounts", SQL: `
CREATE TABLE IF NOT EXISTS warden_users (
	id          TEXT   NOT NULL PRIMARY KEY,
	username    TEXT   NOT NULL UNIQUE,
	custom_id   TEXT   UNIQUE,
	email       TEXT   UNIQUE,
	password    BLOB,
	create_time BIGINT NOT NULL,
	update_time BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS warden_user_devices (
	id      TEXT NOT NULL PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES warden_users(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS warden_user_devices_user_id ON warden_user_devices(user_id);
CREATE TABLE IF NOT EXISTS warden_session_revocations (
	user_id    TEXT   NOT NULL,
	token_id   TEXT   NOT NULL,
	revoked_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, token_id)
);
CREATE INDEX IF NOT EXISTS warden_session_revocations_expires_at ON warden_session_revocations(expires_at);
`},
}
