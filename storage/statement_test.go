package storage

import (
	"errors"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

func TestParse(t *testing.T) {
	trigger := "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN 2 END; INSERT INTO u VALUES (';'); END"
	tests := []struct {
		name     string
		query    string
		text     string
		keyword  string
		renameTo string
		multi    bool
		empty    bool
	}{
		{name: "Simple", query: "SELECT 1", text: "SELECT 1", keyword: "SELECT"},
		{name: "Trailing", query: "  select 1 ;  -- end\n", text: "select 1", keyword: "SELECT"},
		{name: "LeadingSemicolons", query: ";; VALUES (1);;", text: "VALUES (1)", keyword: "VALUES"},
		{name: "SemicolonInString", query: "SELECT ';', 'it''s'", text: "SELECT ';', 'it''s'", keyword: "SELECT"},
		{name: "SemicolonInIdent", query: `SELECT "a;b", [c;d], ` + "`e;f`", text: `SELECT "a;b", [c;d], ` + "`e;f`", keyword: "SELECT"},
		{name: "SemicolonInComment", query: "SELECT 1 /* ; */ -- ;\n", text: "SELECT 1", keyword: "SELECT"},
		{name: "Trigger", query: trigger + ";", text: trigger, keyword: "CREATE"},
		{name: "TempTrigger", query: "CREATE TEMP TRIGGER x BEFORE DELETE ON t BEGIN SELECT 1; END;", text: "CREATE TEMP TRIGGER x BEFORE DELETE ON t BEGIN SELECT 1; END", keyword: "CREATE"},
		{name: "Rename", query: "ALTER TABLE t RENAME TO [warden_x]", text: "ALTER TABLE t RENAME TO [warden_x]", keyword: "ALTER", renameTo: "warden_x"},
		{name: "RenameColumn", query: "alter table t rename a to b", text: "alter table t rename a to b", keyword: "ALTER"},
		{name: "Unterminated", query: "SELECT 'abc; SELECT 2", text: "SELECT 'abc; SELECT 2", keyword: "SELECT"},
		{name: "Two", query: "SELECT 1; SELECT 2", multi: true},
		{name: "TwoAfterComment", query: "SELECT 1; /* x */ DELETE FROM t", multi: true},
		{name: "AfterTrigger", query: trigger + "; DROP TABLE t", multi: true},
		{name: "AfterCaseEnd", query: "SELECT CASE WHEN 1 THEN 2 END; SELECT 1", multi: true},
		{name: "Empty", query: "", empty: true},
		{name: "OnlyComment", query: " /* c */ -- d", empty: true},
		{name: "OnlySemicolons", query: " ; ; ", empty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := parse(tt.query)
			var sqlErr *SQLError
			switch {
			case tt.multi || tt.empty:
				if !errors.As(err, &sqlErr) {
					t.Fatalf("got %v, want *SQLError", err)
				}
				if tt.multi != strings.Contains(err.Error(), "multiple") {
					t.Errorf("error %q", err)
				}
			case err != nil:
				t.Fatal(err)
			case st.text != tt.text || st.keyword != tt.keyword || st.renameTo != tt.renameTo:
				t.Errorf("got %q %q %q, want %q %q %q", st.text, st.keyword, st.renameTo, tt.text, tt.keyword, tt.renameTo)
			}
		})
	}
}

func TestBindArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []any
		wantErr bool
	}{
		{name: "None"},
		{name: "FiveTypes", args: []any{nil, int64(1), 1.5, "s", []byte{1}}},
		{name: "Int", args: []any{1}, wantErr: true},
		{name: "Int32", args: []any{int32(1)}, wantErr: true},
		{name: "Bool", args: []any{false}, wantErr: true},
		{name: "MaxSQLParams", args: make([]any, abi.MaxSQLParams)},
		{name: "OverMaxSQLParams", args: make([]any, abi.MaxSQLParams+1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nv, err := bindArgs(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			for i, v := range nv {
				if v.Ordinal != i+1 {
					t.Errorf("arg %d has ordinal %d", i, v.Ordinal)
				}
			}
		})
	}
}

// TestParse_params checks the parameter count parse finds: at least the
// highest argument ordinal the statement can use.
func TestParse_params(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"None", "SELECT 1", 0},
		{"Anonymous", "SELECT ?, ?", 2},
		{"Numbered", "SELECT ?3, ?1", 3},
		{"AnonymousAfterNumbered", "SELECT ?5, ?", 6},
		{"Dollar", "SELECT $2 + $1", 2},
		{"DollarHigh", "SELECT $7", 7},
		{"Named", "SELECT :a, @b", 2},
		{"InString", "SELECT '?', \"$1\", [?2], `:a` -- ?9\n", 0},
		{"InComment", "SELECT 1 /* ?5 */", 0},
		{"Identifier", "SELECT a$1 FROM t", 0},
		{"Huge", "SELECT ?99999999999999999999", 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := parse(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if st.params != tt.want {
				t.Errorf("params = %d, want %d", st.params, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"SELECT 1", "SELECT 1; SELECT 2", "CREATE TRIGGER a BEGIN x; END; y", "'", "/*", "[", "ALTER TABLE t RENAME TO x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		st, err := parse(query)
		if err != nil {
			return
		}
		// An unterminated quote runs to the end, whitespace included.
		if st.text == "" || !strings.Contains(query, st.text) || strings.TrimLeft(st.text, " \t\r\n\f") != st.text {
			t.Errorf("parse(%q).text = %q", query, st.text)
		}
	})
}
