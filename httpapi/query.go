package httpapi

import (
	"net/url"
	"strings"
)

// maxScannedPairs is the most query pairs a query reads without building
// url.Values; a longer query is parsed by url.ParseQuery, whose own limit
// on the number of parameters (GODEBUG urlmaxqueryparams) then applies
// exactly as before.
const maxScannedPairs = 64

// Query parameters the API reads itself.
const (
	paramHTTPKey = "http_key"
	paramUnwrap  = "unwrap"
	paramPayload = "payload"
)

// query reads a request's query parameters by url.ParseQuery's rules
// (pairs split at "&", a pair with ";" or an escape error skipped, "+" a
// space) without parsing the whole query into url.Values: most RPC calls
// only need http_key and unwrap, and most plugins never read the query, so
// the map, its slices and strings would be built for nothing. The plugin
// gets the raw string, less http_key, and the host parses it on first use.
type query struct {
	raw  string
	vals url.Values // set, and raw unused, for a query of many pairs
}

// newQuery reads raw, an encoded query string.
func newQuery(raw string) query {
	if strings.Count(raw, "&") >= maxScannedPairs {
		v, _ := url.ParseQuery(raw) // the pairs that parse, as URL.Query
		return query{vals: v}
	}
	return query{raw: raw}
}

// get returns the first value of the parameter name, as url.Values.Get,
// and whether it is present, as a lookup in url.Values.
func (q query) get(name string) (string, bool) {
	if q.vals != nil {
		v, ok := q.vals[name]
		if !ok || len(v) == 0 {
			return "", ok
		}
		return v[0], true
	}
	for rest := q.raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if !strings.HasPrefix(pair, name) && strings.IndexByte(pair, '%') < 0 && strings.IndexByte(pair, '+') < 0 {
			continue // cannot be name, escaped or not: spares the unescaping
		}
		k, v, ok := parsePair(pair)
		if ok && k == name {
			if v, err := url.QueryUnescape(v); err == nil {
				return v, true
			}
		}
	}
	return "", false
}

// forPlugin returns what the plugin sees of the query: without the
// http_key parameter, either as a raw string to parse on first use or,
// for a query of many pairs, as url.Values.
func (q query) forPlugin() (string, url.Values) {
	if q.vals != nil {
		q.vals.Del(paramHTTPKey)
		return "", q.vals
	}
	return withoutParam(q.raw, paramHTTPKey), nil
}

// parsePair splits one pair of a query into its unescaped key and its
// still escaped value. ok is false for a pair url.ParseQuery skips for its
// key: empty, with a ";", or with a bad escape.
func parsePair(pair string) (key, value string, ok bool) {
	if pair == "" || strings.Contains(pair, ";") {
		return "", "", false
	}
	k, v, _ := strings.Cut(pair, "=")
	k, err := url.QueryUnescape(k) // allocates only for an escaped key
	if err != nil {
		return "", "", false
	}
	return k, v, true
}

// withoutParam returns raw without the pairs whose key is name. Parsing
// the result gives what parsing raw and deleting name gives. It copies
// nothing when raw has no such pair, or one only, first or last (as in
// "?http_key=K&unwrap"): the rest of raw is then returned as it is.
func withoutParam(raw, name string) string {
	first, last, n := -1, -1, 0 // offsets of the first and last such pair
	for off := 0; off <= len(raw); {
		end := strings.IndexByte(raw[off:], '&')
		if end < 0 {
			end = len(raw) - off
		}
		if k, _, ok := parsePair(raw[off : off+end]); ok && k == name {
			if first < 0 {
				first = off
			}
			last, n = off, n+1
		}
		off += end + 1
	}
	switch {
	case n == 0:
		return raw
	case n == 1 && first == 0:
		_, rest, _ := strings.Cut(raw, "&")
		return rest
	case n == 1 && strings.IndexByte(raw[last:], '&') < 0:
		return raw[:last-1]
	}
	var b strings.Builder
	b.Grow(len(raw))
	for rest := raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if k, _, ok := parsePair(pair); ok && k == name {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	return b.String()
}
