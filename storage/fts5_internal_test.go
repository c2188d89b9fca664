package storage

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// TestSnippet_matchesFTS5: Warden's snippet() answers as fts5's own (on a
// connection opened through SQLite's C interface), and fails, with
// SQLITE_TOOBIG, only a row whose matches would cost more than
// maxSnippetWork.
func TestSnippet_matchesFTS5(t *testing.T) {
	raw, db := openRawSQLite(t), openMemory(t)
	ctx := context.Background()
	setup := []string{
		"CREATE VIRTUAL TABLE f USING fts5(a, b)",
		"INSERT INTO f VALUES ('the quick brown fox jumps over the lazy dog. The dog sleeps.', 'a fox, another fox and a third fox')",
		"INSERT INTO f VALUES ('nothing here but words and more words about nothing', 'quick quick quick')",
		"INSERT INTO f(a) WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c LIMIT 3000) SELECT group_concat('w' || k || CASE WHEN k % 7 = 0 THEN ' fox.' ELSE '' END, ' ') FROM c",
		"CREATE VIRTUAL TABLE g USING fts5(a, detail=none)",
		"CREATE VIRTUAL TABLE h USING fts5(a, detail=column)",
		"INSERT INTO g VALUES ('a fox')",
		"INSERT INTO h VALUES ('a fox')",
	}
	for _, q := range setup {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.column(q, -1); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		"SELECT snippet(f, 0, '[', ']', '...', 4) FROM f WHERE f MATCH 'fox' ORDER BY rowid",
		"SELECT snippet(f, -1, '<b>', '</b>', '…', 10) FROM f WHERE f MATCH 'fox OR quick' ORDER BY rowid",
		"SELECT snippet(f, 1, '', '', '', 64) FROM f WHERE f MATCH 'b:fox' ORDER BY rowid",
		"SELECT snippet(f, 0, '[', ']', '...', 0) FROM f WHERE f MATCH 'dog' ORDER BY rank",
		"SELECT snippet(f, 0, '[', ']', '...') FROM f WHERE f MATCH 'fox'", // an error
		"SELECT snippet(g, 0, '[', ']', '...', 4) FROM g WHERE g MATCH 'fox'",
		"SELECT snippet(h, 0, '[', ']', '...', 4) FROM h WHERE h MATCH 'fox'",
	} {
		got, err := textsOf(ctx, db, q)
		want, wantErr := raw.texts(q)
		switch {
		case wantErr != nil && (err == nil || !strings.Contains(err.Error(), wantErr.Error())):
			t.Errorf("%s: got %q, %v; fts5 failed: %v", q, got, err, wantErr)
		case wantErr == nil && (err != nil || len(got) == 0 || strings.Join(got, "|") != strings.Join(want, "|")):
			t.Errorf("%s:\n got %q (%v)\nfts5 %q", q, got, err, want)
		}
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO f(a) WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c LIMIT 5000) SELECT group_concat('fox', ' ') FROM c"); err != nil {
		t.Fatal(err)
	}
	var s string
	err := db.QueryRowContext(ctx, "SELECT snippet(f, 0, '[', ']', '...', 10) FROM f WHERE f MATCH 'fox' AND rowid = 4").Scan(&s)
	if err == nil || !strings.Contains(err.Error(), "too many matches") {
		t.Fatalf("5,000 matches in a row: got %q, %v; want the row refused", s, err)
	}
}

// textsOf runs query on db and returns the first column of its rows.
func textsOf(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
