// Package conformance checks that a plugin behaves the same whatever
// language and SDK it was written in. Each language implements the plugin
// of SPEC.md in conformance/<language>/ (rust, assemblyscript, go, c), with
// its source, a build.sh and the committed conformance.wasm; the test
// TestConformance serves each one over HTTP on a fresh server and database,
// sends the same table of requests, and compares a transcript of the
// responses, the plugin's log lines and the database effects with
// testdata/golden.txt, byte for byte.
//
// The package has no code outside its tests. The golden file is generated
// from the Rust plugin and reviewed by hand:
//
//	go test ./conformance -run TestConformance/rust -update
//
// TestConformance_postgres runs the same table with the plugin's data on
// PostgreSQL when WARDEN_TEST_POSTGRES names a server (see
// scripts/pg-test-server), and compares the transcript with the same
// golden.txt, byte for byte, but for the db RPC's engine line
// (engine=postgresql): the db RPC keeps to portable SQL (ABI.md section
// 6, one declared type per column), so every other answer is the same.
package conformance
