package manifest

import (
	"slices"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// TestParse_exactKeys: TOML keys are case-sensitive, so [ENV] is another
// table than [env] and ALLOW another key than allow. go-toml matches
// struct fields case-insensitively, and used to let a second spelling
// replace the first: "[env] allow = []" followed by "[ENV] ALLOW =
// [\"SECRET\"]" granted SECRET. Every key must be spelled as documented;
// any other spelling is an unknown key, named with its line.
func TestParse_exactKeys(t *testing.T) {
	for _, tt := range []struct{ name, toml, want string }{
		{"ErrTableCase", "# reviewed: sees no environment\n[env]\nallow = []\n\n[ENV]\nALLOW = [\"SECRET\"]\n",
			"unknown key ENV (line 5), not env: keys are case-sensitive"},
		{"ErrKeyCase", "[env]\nallow = []\nALLOW = [\"SECRET\"]\n", "unknown key env.ALLOW (line 3), not env.allow"},
		{"ErrKeyCaseAlone", "[env]\nAllow = [\"SECRET\"]\n", "unknown key env.Allow (line 2)"},
		{"ErrHTTPAllowCase", "[http]\nallow = []\nAllow = [\"https://evil.example\"]\n", "unknown key http.Allow (line 3), not http.allow"},
		{"ErrLimitsCase", "[limits]\nmemory_mib = 4\nMemory_MiB = 0\n", "unknown key limits.Memory_MiB (line 3), not limits.memory_mib"},
		{"ErrDottedCase", "Env.allow = [\"SECRET\"]\n", "unknown key Env (line 1), not env"},
		{"ErrDottedKeyCase", "[http]\nallow = []\n[limits]\nINSTANCES = 1\n", "unknown key limits.INSTANCES (line 4)"},
		{"ErrInlineCase", "env = { ALLOW = [\"SECRET\"] }\n", "unknown key env.ALLOW (line 1), not env.allow"},
		{"ErrTableUnderTable", "[http]\nallow = []\n\nlimits = { instances = 1 }\n", "unknown key http.limits (line 4)"},
		{"ErrQuotedCase", "[\"ENV\"]\n\"allow\" = [\"SECRET\"]\n", "unknown key ENV (line 1)"},
		{"ErrQuotedOdd", "[env]\n\"al\\nlow\" = []\n", `unknown key env."al\nlow" (line 2)`},
		{"ErrDottedQuoted", "\"env.allow\" = [\"SECRET\"]\n", `unknown key "env.allow" (line 1)`},
		{"ErrUnderTable", "[http.allow]\nx = 1\n", "http.allow (line 1) is a value, not a table"},
		{"ErrUnderValue", "[limits]\ninstances.n = 1\n", "limits.instances (line 2) is a value, not a table"},
		{"ErrTableAsValue", "env = [\"SECRET\"]\n", "env (line 1) is a table, not a value"},
		{"ErrValueAsTable", "[env]\nallow = { SECRET = 1 }\n", "env.allow (line 2) is a value, not a table"},
		{"ErrTableInList", "[env]\nallow = [[\"A\"], [{ SECRET = 1 }]]\n", "env.allow (line 2) is a value, not a table"},
		{"ErrArrayOfTables", "[[env]]\nallow = [\"SECRET\"]\n", "[[env]] (line 1): the manifest has no array of tables"},
		{"ErrDuplicateKey", "[env]\nallow = []\nallow = [\"SECRET\"]\n", "key env.allow given twice (lines 2 and 3)"},
		{"ErrDuplicateTable", "[env]\nallow = []\n[limits]\n[env]\n", "table env given twice (lines 1 and 4)"},
		{"ErrDuplicateDotted", "env.allow = []\n[env]\nallow = [\"SECRET\"]\n", "table env given twice (lines 1 and 2)"},
		{"ErrDuplicateInline", "env = { allow = [] }\n[env]\nallow = [\"SECRET\"]\n", "table env given twice (lines 1 and 2)"},
		{"ErrDuplicateSpelled", "[env]\nallow = []\n'allow' = [\"SECRET\"]\n", "key env.allow given twice (lines 2 and 3)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.toml), testMax)
			if err == nil {
				t.Fatalf("accepted, env %v, grants %v, limits %+v; want an error containing %q",
					m.Env.Allow, m.Policy.Grants(), m.Limits, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestParse_exactKeysOK: the documented keys in every form TOML gives the
// same key (quoted, dotted, inline) are the same keys.
func TestParse_exactKeysOK(t *testing.T) {
	for _, tt := range []struct{ name, toml string }{
		{"Quoted", "[\"env\"]\n'allow' = [\"SECRET\"]\n"},
		{"Escaped", "[env]\n\"\\u0061llow\" = [\"SECRET\"]\n"},
		{"Dotted", "env.allow = [\"SECRET\"]\nlimits.instances = 2\n"},
		{"Spaced", "[ \"env\" ]\n allow  =  [\"SECRET\"]\n"},
		{"Inline", "env = { allow = [\"SECRET\"] }\nlimits = { instances = 2 }\n"},
		{"DottedInTable", "[env]\nallow = [\"SECRET\"]\n[limits]\ninstances = 2\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.toml), testMax)
			if err != nil {
				t.Fatal(err)
			}
			if m.Env.Allow == nil || len(*m.Env.Allow) != 1 || (*m.Env.Allow)[0] != "SECRET" {
				t.Errorf("env allow %v", m.Env.Allow)
			}
		})
	}
}

// TestParse_unknownTablesEarly: a 64 KiB manifest of unknown tables or
// keys is refused at the first, naming it alone. go-toml's strict decoding
// took seconds over such a file (quadratic in the number of unknown
// tables), at every reload, and listed every one in an error of 138 KB; an
// inline table of thousands of keys given to a value took it 0.8 s.
func TestParse_unknownTablesEarly(t *testing.T) {
	fill := func(head, unit, tail string) string {
		return head + strings.Repeat(unit, (MaxBytes-len(head)-len(tail))/len(unit)) + tail
	}
	for _, tt := range []struct{ name, toml, want string }{
		{"ArrayTables", fill("", "[[b.c]]\n", ""), "unknown key b (line 1)"},
		{"Tables", fill("", "[b]\n[c]\n", ""), "unknown key b (line 1)"},
		{"Keys", fill("", "a = 1\nb = 2\n", ""), "unknown key a (line 1)"},
		{"InlineKeys", fill("env.allow = { ", "k = 1, ", "}\n"), "env.allow (line 1) is a value, not a table"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.toml), testMax)
			if err == nil || !strings.Contains(err.Error(), tt.want) || len(err.Error()) > 200 {
				t.Fatalf("error of %d bytes %.200q, want a short one containing %q", len(errString(err)), errString(err), tt.want)
			}
		})
	}
}

// errString is err's message, or <nil>.
func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestSchema: the known keys are the toml tags of Manifest's fields, so
// the list of names has one home; tables are the struct fields but
// Duration, which is a value.
func TestSchema(t *testing.T) {
	s := known()
	var got []string
	var walk func(prefix string, s schema)
	walk = func(prefix string, s schema) {
		for k, sub := range s {
			if sub == nil {
				got = append(got, prefix+k)
				continue
			}
			got = append(got, prefix+k+".")
			walk(prefix+k+".", sub)
		}
	}
	walk("", s)
	want := []string{"env.", "env.allow", "http.", "http.allow", "http.max_request_bytes",
		"http.max_response_bytes", "http.timeout", "limits.", "limits.call_timeout",
		"limits.instances", "limits.memory_mib"}
	slices.Sort(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("schema %v, want %v", got, want)
	}
}

// FuzzParse: no input panics the key check, and what Parse accepts holds
// no key outside the schema, in any spelling, as go-toml's own generic
// decoding (which keeps keys as written) sees the document.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"[env]\nallow = []\n[ENV]\nALLOW = [\"SECRET\"]\n",
		"env = { allow = [\"A\"] }\nlimits.instances = 2\n",
		"[http]\nallow = [\"https://api.example.com\"]\ntimeout = \"2s\"\n",
		"[[b.c]]\n[[b.c]]\n",
		"a.b.c = { d = { e = [ { f = 1 } ] } }\n",
		"[limits]\nmemory_mib = 4\nMemory_MiB = 0\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Parse(data, testMax); err != nil {
			return
		}
		var doc map[string]any
		if err := toml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("Parse accepted what go-toml refuses: %v", err)
		}
		if path, ok := outside(doc, known()); !ok {
			t.Fatalf("Parse accepted key %s, not in the schema", path)
		}
	})
}

// outside finds a key of doc that the schema does not have.
func outside(doc map[string]any, s schema) (string, bool) {
	for k, v := range doc {
		sub, ok := s[k]
		if !ok {
			return k, false
		}
		if t, isTable := v.(map[string]any); isTable {
			if sub == nil {
				return k, false
			}
			if p, ok := outside(t, sub); !ok {
				return k + "." + p, false
			}
		}
	}
	return "", true
}
