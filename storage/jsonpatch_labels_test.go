package storage_test

import (
	"errors"
	"testing"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// TestSession_deadlineJSONPatchLongLabels: the guard counts a label
// comparison as one unit, but SQLite compares a label with an escape in
// it (a TEXTJ or TEXT5 label, either side) character by character
// (jsonLabelCompareEscaped), some 4 to 6 ns a byte here, up to the first
// difference. 1,300 target keys "000…0A" and 1,300 patch keys
// "000…0\u0042" (null, so no edit) of 2,048 bytes each (2.7 MB each)
// reckon some 30.5M < 2^25 (the bytes term being counted at 1/256 a
// byte), yet compare 1.7M pairs of 2,048 characters: json_patch ran
// 10.4 s, jsonb_patch 18 s, under a 200 ms deadline on a 2-core VM
// (labels of 2-byte escapes \" on both sides: 5.6 ns a byte). The guard
// now counts the bytes of the labels with an escape, and refuses each,
// and the same with JSON5 bare-word labels of \uXXXX escapes.
func TestSession_deadlineJSONPatchLongLabels(t *testing.T) {
	db := openDB(t, storage.Options{MaxMemoryBytes: abi.MaxDBMemoryBytes})
	s := session(t, db)
	mustExec(t, s, "CREATE TABLE j(doc TEXT)")
	mustExec(t, s, `INSERT INTO j
		WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1300)
		SELECT '{' || (SELECT group_concat('"' || hex(zeroblob(1024)) || 'A":1', ',') FROM c) || '}'
		UNION ALL SELECT '{' || (SELECT group_concat('"' || hex(zeroblob(1024)) || '\u0042":null', ',') FROM c) || '}'
		UNION ALL SELECT '{' || (SELECT group_concat(replace(hex(zeroblob(170)), '0', '\u0078') || 'A:1', ',') FROM c) || '}'
		UNION ALL SELECT '{' || (SELECT group_concat(replace(hex(zeroblob(170)), '0', '\u0078') || 'B:null', ',') FROM c) || '}'`)
	for _, q := range []string{
		"SELECT length(json_patch((SELECT doc FROM j WHERE rowid = 1), (SELECT doc FROM j WHERE rowid = 2)))",
		"SELECT length(jsonb_patch(jsonb((SELECT doc FROM j WHERE rowid = 1)), jsonb((SELECT doc FROM j WHERE rowid = 2))))",
		"SELECT length(json_patch((SELECT doc FROM j WHERE rowid = 3), (SELECT doc FROM j WHERE rowid = 4)))",
		"SELECT length(jsonb_patch(jsonb((SELECT doc FROM j WHERE rowid = 3)), jsonb((SELECT doc FROM j WHERE rowid = 4))))",
	} {
		if err := queryRefused(t, s, q); !errors.Is(err, storage.ErrLimit) {
			t.Errorf("%s: got %v, want ErrLimit", q, err)
		}
	}
}
