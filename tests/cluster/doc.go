// Package cluster holds the tests of cluster mode: several Warden
// processes, built once from cmd/server, serving the bundled plugins on
// 127.0.0.1 against one PostgreSQL database (-database). They need
// WARDEN_TEST_POSTGRES (see storage/pg/pgtest) and skip without it, except
// under CI, where they fail.
package cluster
