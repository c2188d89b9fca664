package conformance

import (
	"strconv"
	"strings"
)

// caller is who sends a request.
type caller int

const (
	asServer caller = iota // authenticated by the http_key query parameter
	asUser                 // a Bearer session token for testUser
)

// exchange is one request of the table and how to render its response.
type exchange struct {
	caller caller
	method string
	// path is the request path with its query, without http_key: the runner
	// adds it for asServer.
	path string
	// header is sent as given, in order; a name may repeat.
	header [][2]string
	body   []byte
	// panic renders the response's message only up to the panic message,
	// since languages may append a location.
	panic bool
}

// bodyLimit is httpapi's default request body limit, which the largest echo
// payload fills exactly.
const bodyLimit = 256 << 10

// invalidUTF8 holds bytes that are not UTF-8 in several ways: NUL (valid),
// stray continuation and lead bytes, an overlong '/' (c0 af) and an encoded
// surrogate (ed a0 80), then a valid 'A'.
var invalidUTF8 = []byte{0x00, 0xff, 0xfe, 0x80, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x41}

// exchanges returns the table that every language's plugin gets, in order.
// It calls every RPC of SPEC.md. Bodies without ?unwrap are JSON strings,
// as Nakama's clients send them.
func exchanges() []exchange {
	user := [][2]string{{"X-Conformance", "first"}, {"X-Conformance", "second"}}
	x := []exchange{
		{caller: asUser, method: "POST", path: "/v2/rpc/ctx?q=h%C3%A9llo+w&unwrap", header: user},
		{caller: asServer, method: "GET", path: "/v2/rpc/ctx?unwrap"},
		{caller: asServer, method: "POST", path: "/v2/rpc/log", body: []byte(`"hello, 世界"`)},
		{caller: asServer, method: "POST", path: "/v2/rpc/db?unwrap"},
		{caller: asUser, method: "POST", path: "/v2/rpc/db?unwrap"},
	}
	for n := 1; n <= 17; n++ {
		x = append(x, exchange{caller: asServer, method: "POST", path: "/v2/rpc/error",
			body: []byte(strconv.Quote(strconv.Itoa(n)))})
	}
	return append(x,
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/panic", panic: true},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/echo?unwrap"},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/echo", body: []byte(`""`)},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/echo", body: []byte(`"héllo <&> 世界 😀"`)},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/echo?unwrap", body: []byte("héllo, 世界 😀")},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/echo?unwrap", body: invalidUTF8},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/echo?unwrap", body: limitPayload(),
			header: [][2]string{{"Content-Type", "application/octet-stream"}}},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/text?unwrap", body: []byte("héllo, 世界 😀")},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/text?unwrap"},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/text?unwrap", body: []byte("a\x00b")},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/text", body: []byte(`"\u00e9t\u00e9 \ud83d\ude00"`)},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/text?unwrap", body: []byte("h\xffi")},
		exchange{caller: asUser, method: "POST", path: "/v2/rpc/whoami?unwrap"},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/WhoAmI?unwrap"},
		exchange{caller: asServer, method: "POST", path: "/v2/rpc/http?unwrap"},
	)
}

// limitPayload returns bodyLimit bytes that cycle through every byte value.
func limitPayload() []byte {
	b := make([]byte, bodyLimit)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// withHTTPKey returns path with the http_key query parameter first.
func withHTTPKey(path string) string {
	p, q, _ := strings.Cut(path, "?")
	if q == "" {
		return p + "?http_key=" + testHTTPKey
	}
	return p + "?http_key=" + testHTTPKey + "&" + q
}
