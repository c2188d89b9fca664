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
//
// newQuery reads the pairs once and notes the API's own parameters, so
// that get and forPlugin need not read them again.
type query struct {
	raw  string
	vals url.Values // set, and raw unused, for a query of many pairs

	// key, unwrap and payload are the API's own parameters.
	key, unwrap, payload param
	// keyPairs counts the http_key pairs; keyLast is the offset in raw of
	// the last (of the only one, when keyPairs is 1).
	keyPairs, keyLast int
}

// param is the first value of a parameter, unescaped, and whether it is
// present.
type param struct {
	value string
	ok    bool
}

// newQuery reads raw, an encoded query string.
func newQuery(raw string) query {
	if strings.Count(raw, "&") >= maxScannedPairs {
		v, _ := url.ParseQuery(raw) // the pairs that parse, as URL.Query
		return query{vals: v}
	}
	q := query{raw: raw}
	for off := 0; off < len(raw); {
		end := strings.IndexByte(raw[off:], '&')
		if end < 0 {
			end = len(raw) - off
		}
		if k, v, ok := parsePair(raw[off : off+end]); ok {
			switch k {
			case paramHTTPKey:
				q.keyPairs, q.keyLast = q.keyPairs+1, off
				q.key.note(v)
			case paramUnwrap:
				q.unwrap.note(v)
			case paramPayload:
				q.payload.note(v)
			}
		}
		off += end + 1
	}
	return q
}

// note records v, an escaped value, unescaped, unless a value was found
// already. A value that does not unescape is passed over: url.ParseQuery
// skips its pair.
func (p *param) note(v string) {
	if !p.ok {
		*p = unescapeValue(v)
	}
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
	var p param
	switch name {
	case paramHTTPKey:
		p = q.key
	case paramUnwrap:
		p = q.unwrap
	case paramPayload:
		p = q.payload
	default:
		p = q.scan(name)
	}
	return p.value, p.ok
}

// scan finds the parameter name in q.raw, for a name newQuery does not
// note.
func (q query) scan(name string) param {
	var p param
	for rest := q.raw; rest != "" && !p.ok; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if k, v, ok := parsePair(pair); ok && k == name {
			p.note(v)
		}
	}
	return p
}

// unescapeValue returns a parameter of value v, which is absent when v
// does not unescape.
func unescapeValue(v string) param {
	if !escaped(v) {
		return param{v, true}
	}
	v, err := url.QueryUnescape(v)
	if err != nil {
		return param{}
	}
	return param{v, true}
}

// forPlugin returns what the plugin sees of the query: without the
// http_key parameter, either as a raw string to parse on first use or,
// for a query of many pairs, as url.Values. It copies nothing when the
// query has no http_key, or one only, first or last (as in
// "?http_key=K&unwrap"): the rest of raw is then returned as it is.
func (q query) forPlugin() (string, url.Values) {
	if q.vals != nil {
		q.vals.Del(paramHTTPKey)
		return "", q.vals
	}
	raw := q.raw
	switch {
	case q.keyPairs == 0:
		return raw, nil
	case q.keyPairs == 1 && q.keyLast == 0:
		_, rest, _ := strings.Cut(raw, "&")
		return rest, nil
	case q.keyPairs == 1 && strings.IndexByte(raw[q.keyLast:], '&') < 0:
		return raw[:q.keyLast-1], nil
	}
	return withoutParam(raw, paramHTTPKey), nil
}

// parsePair splits one pair of a query into its unescaped key and its
// still escaped value. ok is false for a pair url.ParseQuery skips for its
// key: empty, with a ";", or with a bad escape.
func parsePair(pair string) (key, value string, ok bool) {
	if pair == "" || strings.IndexByte(pair, ';') >= 0 {
		return "", "", false
	}
	k, v, _ := strings.Cut(pair, "=")
	if escaped(k) {
		var err error
		if k, err = url.QueryUnescape(k); err != nil {
			return "", "", false
		}
	}
	return k, v, true
}

// escaped reports whether s holds a "%" escape or a "+", which
// url.QueryUnescape would change; most keys and values hold neither.
func escaped(s string) bool {
	for i := range len(s) {
		if c := s[i]; c == '%' || c == '+' {
			return true
		}
	}
	return false
}

// withoutParam returns raw without the pairs whose key is name. Parsing
// the result gives what parsing raw and deleting name gives.
func withoutParam(raw, name string) string {
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
