package storage_test

import (
	"testing"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// TestSession_deadlineJSONPatch: SQLite's json_patch (RFC 7396) looks each
// of the patch's keys up in the target by walking the target's keys, so
// one call compares the product of the two objects' key counts. A patch
// whose values are all null and whose keys the target lacks edits
// nothing, so the call allocates nothing after it parses its arguments,
// and SQLite never interrupts it. Two objects of 30,000 keys (some
// 300 KB of JSON each; the 4 MiB value limit holds some 400,000) make
// 9e8 label comparisons: 14 s under a 200 ms deadline on a 2-core VM.
func TestSession_deadlineJSONPatch(t *testing.T) {
	db := openDB(t, storage.Options{MaxMemoryBytes: abi.MaxDBMemoryBytes})
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE j(target TEXT, patch TEXT)")
	mustExec(t, s, `INSERT INTO j
		WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 30000)
		SELECT (SELECT json_group_object('t' || x, 1) FROM c), (SELECT json_group_object('p' || x, NULL) FROM c)`)
	queryEndsNearDeadline(t, s, "SELECT length(json_patch(target, patch)) FROM j")
}
