package httpapi

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// queryCases are raw queries whose reading must match url.ParseQuery's.
var queryCases = []string{
	"",
	"http_key=k&unwrap",
	"unwrap&http_key=k",
	"http_key=k1&http_key=k2",
	"http_key=&http_key=k2",
	"http%5Fkey=escaped&unwrap=",
	"http_key=a+b%20c",
	"http_key=bad%zz&http_key=good",
	"http_key=k;x&unwrap",
	"a;b=1&http_key=k",
	"&&http_key=k&&",
	"=v&http_key",
	"payload=%7B%22a%22%3A1%7D&q=1&q=2",
	"bad%key=1&http_key=k",
	"unwrap=%zz",
	"http_key=k",
	"unwrap&http_key=k",
	"http_key=k&",
	"&http_key=k",
	"a=1&http_key=k&b=2",
	"http_key=k&a=1&http_key=j",
	"http_key=k&" + strings.Repeat("p=1&", maxScannedPairs) + "unwrap",
	// A client hiding a key from the plugin's view, or the check's: an
	// escaped name, in either case, among other pairs; the key twice,
	// first and last; a pair that url.ParseQuery skips.
	"a=1&http%5Fkey=k&b=2&http_key=j",
	"http_key=k&a=1&http%5fkey=j",
	"http_key=k&http_key=k",
	"http_key=k;x&a=1",
	"a=1&http_key=k&b=%zz&http_key=j&c=3",
}

// TestQuery_matchesParseQuery checks that query's get and forPlugin give
// what url.ParseQuery, url.Values.Get and url.Values.Del gave the
// handlers before.
func TestQuery_matchesParseQuery(t *testing.T) {
	for _, raw := range queryCases {
		t.Run(raw, func(t *testing.T) { checkQuery(t, raw) })
	}
}

func checkQuery(t *testing.T, raw string) {
	t.Helper()
	want, _ := url.ParseQuery(raw)
	q := newQuery(raw)
	for _, name := range []string{paramHTTPKey, paramUnwrap, paramPayload, "q", "p", ""} {
		v, ok := q.get(name)
		wv, wok := want[name]
		if ok != wok || v != want.Get(name) || (ok && len(wv) == 0) {
			t.Errorf("get(%q) = %q, %v; ParseQuery gives %q", name, v, ok, wv)
		}
	}
	want.Del(paramHTTPKey)
	rawForPlugin, vals := q.forPlugin()
	if vals == nil {
		vals, _ = url.ParseQuery(rawForPlugin)
	}
	if !reflect.DeepEqual(vals, want) {
		t.Errorf("forPlugin parses to %q, want %q", vals, want)
	}
}

// TestQuery_noAllocation checks that reading a short query with nothing
// escaped, as clients send it, allocates nothing.
func TestQuery_noAllocation(t *testing.T) {
	for _, raw := range []string{"unwrap&q=1", "http_key=k&unwrap", "unwrap&http_key=k", "http_key=k", ""} {
		allocs := testing.AllocsPerRun(100, func() {
			q := newQuery(raw)
			_, _ = q.get(paramHTTPKey)
			_, _ = q.get(paramUnwrap)
			_, _ = q.forPlugin()
		})
		if allocs != 0 {
			t.Errorf("%q: %v allocations, want 0", raw, allocs)
		}
	}
}

// FuzzQuery checks query against url.ParseQuery on any raw query.
func FuzzQuery(f *testing.F) {
	for _, raw := range queryCases {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) { checkQuery(t, raw) })
}
