package storage_test

import (
	"errors"
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
// The same walk makes a patch of new keys cost the square of its own
// keys (each is looked up among the ones added before it), into the
// top level or into an object, and jsonb_patch is the same code. Warden's
// guard (storage/jsonpatch.go) refuses each for its size before SQLite's
// merge starts.
func TestSession_deadlineJSONPatch(t *testing.T) {
	db := openDB(t, storage.Options{MaxMemoryBytes: abi.MaxDBMemoryBytes})
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE j(target TEXT, patch TEXT, added TEXT)")
	mustExec(t, s, `INSERT INTO j
		WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 30000)
		SELECT (SELECT json_group_object('t' || x, 1) FROM c), (SELECT json_group_object('p' || x, NULL) FROM c),
			(SELECT json_group_object('p' || x, 1) FROM c)`)
	// A patch that deletes every key of the target in order finds each at
	// once, and each deletion moves the rest of the target: 250,000 keys
	// (3 MB), 23 s of SQLite's merge (100,000 keys, 1 MB: 1.2 s). A row
	// holds one of the two.
	mustExec(t, s, "CREATE TABLE d(doc TEXT)")
	mustExec(t, s, `INSERT INTO d
		WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 250000)
		SELECT json_group_object('t' || x, 1) FROM c UNION ALL SELECT json_group_object('t' || x, NULL) FROM c`)
	for _, q := range []string{
		"SELECT length(json_patch((SELECT doc FROM d WHERE rowid = 1), (SELECT doc FROM d WHERE rowid = 2)))",
		"SELECT length(json_patch(target, patch)) FROM j",
		"SELECT length(jsonb_patch(jsonb(target), jsonb(patch))) FROM j",
		"SELECT length(json_patch('{}', added)) FROM j",
		`SELECT length(json_patch('{"a":1}', json_object('a', json(added)))) FROM j`,
	} {
		if err := queryRefused(t, s, q); !errors.Is(err, storage.ErrLimit) {
			t.Errorf("%s: got %v, want ErrLimit", q, err)
		}
	}
}
