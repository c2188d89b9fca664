package conformance

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxVerbatim is the longest body rendered as itself; longer ones are
// rendered by length and SHA-256.
const maxVerbatim = 1024

// renderBody renders a request or response body on its own terms:
// "(empty)"; "(N bytes, sha256 H)" past maxVerbatim bytes; the text itself
// when it is UTF-8 with only printable characters, newlines and tabs; and
// "(hex H)" otherwise. A verbatim body that ends with a newline leaves an
// empty line after it in the transcript.
func renderBody(b []byte) string {
	switch {
	case len(b) == 0:
		return "(empty)"
	case len(b) > maxVerbatim:
		return fmt.Sprintf("(%d bytes, sha256 %x)", len(b), sha256.Sum256(b))
	case printable(b):
		return string(b)
	}
	return "(hex " + hex.EncodeToString(b) + ")"
}

// printable reports whether b is UTF-8 text with no control characters but
// newline and tab.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r != '\n' && r != '\t' && !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// panicPrefix is what the message of a panic response starts with.
const panicPrefix = "panic: conformance panic"

// panicBody replaces the message of a panic response, wherever the body
// holds it, with panicPrefix and "…", so that the location a language
// appends is not compared. SPEC.md allows a location after a space; any
// other message leaves the body as it is, so that it shows in the diff.
func panicBody(body []byte) []byte {
	var e struct{ Message string }
	if json.Unmarshal(body, &e) != nil {
		return body
	}
	rest, ok := strings.CutPrefix(e.Message, panicPrefix)
	if !ok || (rest != "" && rest[0] != ' ') {
		return body
	}
	quoted, err := json.Marshal(e.Message)
	if err != nil {
		return body
	}
	inner := quoted[1 : len(quoted)-1]
	return bytes.ReplaceAll(body, inner, []byte(panicPrefix+"…"))
}

// pluginLogKeys are the fields of a line that the host writes for the
// plugin's log import; lines with any other field are the host's own (such
// as a WASI stream, an error or a count) and are not compared.
var pluginLogKeys = []string{"level", "time", "component", "plugin", "plugin_version", "rpc_id", "trace_id", "message"}

// renderLogs renders the plugin's log lines in logs (zerolog JSON, one
// object per line) as "<level>: <message>".
func renderLogs(logs []byte, plugin string) (string, error) {
	var sb strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return "", fmt.Errorf("log line %q: %w", sc.Text(), err)
		}
		if m["plugin"] != plugin || !onlyKeys(m, pluginLogKeys) {
			continue
		}
		fmt.Fprintf(&sb, "%v: %v\n", m["level"], m["message"])
	}
	return sb.String(), sc.Err()
}

func onlyKeys(m map[string]any, keys []string) bool {
	for k := range m {
		if !slices.Contains(keys, k) {
			return false
		}
	}
	return true
}

// renderValue renders a database value as SPEC.md's db RPC prints it:
// "null" or "<type>:<value>".
func renderValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case int64:
		return fmt.Sprintf("int:%d", v)
	case float64:
		return fmt.Sprintf("float:%016x", math.Float64bits(v))
	case string:
		return "text:" + hex.EncodeToString([]byte(v))
	case []byte:
		return "blob:" + hex.EncodeToString(v)
	}
	return fmt.Sprintf("unknown:%T", v)
}

// diff returns the first lines where got and want differ, with their line
// numbers, or "" when they are equal.
func diff(got, want string) string {
	if got == want {
		return ""
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var sb strings.Builder
	shown := 0
	for i := 0; i < max(len(g), len(w)) && shown < 10; i++ {
		gl, wl := line(g, i), line(w, i)
		if gl == wl {
			continue
		}
		fmt.Fprintf(&sb, "line %d:\n  got:  %s\n  want: %s\n", i+1, gl, wl)
		shown++
	}
	return sb.String()
}

func line(lines []string, i int) string {
	if i < len(lines) {
		return fmt.Sprintf("%q", lines[i])
	}
	return "(none)"
}
