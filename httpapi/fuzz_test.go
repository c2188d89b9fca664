package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodePayload checks that decodePayload never panics, passes the body
// through with unwrap, accepts exactly the empty body and JSON strings (and
// null) otherwise, and refuses everything else with Nakama's fixed 400.
func FuzzDecodePayload(f *testing.F) {
	for _, seed := range []string{"", `"x"`, `null`, `{"a":1}`, `1`, `"\u00e9\ud800"`, ` "a" `, `"a"x`, "\xff", `"<>&"`} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, unwrap bool) {
		got, err := decodePayload(body, unwrap)
		if unwrap || len(body) == 0 {
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("decodePayload(%q, %v) = %q, %v; want the body", body, unwrap, got, err)
			}
			return
		}
		var want *string
		jsonErr := json.Unmarshal(body, &want)
		if jsonErr != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || e.Msg != msgBadJSON {
				t.Fatalf("decodePayload(%q) error = %v, want the fixed 400", body, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("decodePayload(%q) = %v for a JSON string or null", body, err)
		}
		if want == nil && len(got) != 0 || want != nil && string(got) != *want {
			t.Fatalf("decodePayload(%q) = %q, want %v", body, got, want)
		}
	})
}
