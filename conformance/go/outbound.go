package main

import (
	"errors"
	"strconv"
	"strings"

	warden "github.com/warden-rpc/warden/sdk/go"
	"github.com/warden-rpc/warden/sdk/go/fetch"
)

// showHTTP prints one outbound request's outcome as SPEC.md renders it.
func showHTTP(out *lines, name string, res *fetch.Response, err error) {
	var e *fetch.Error
	if errors.As(err, &e) {
		out.put(name, strings.ToLower(e.Status.String()))
		out.put(name+".message", e.Message)
		return
	}
	out.put(name+".status", strconv.Itoa(res.Status))
	first := res.Header("X-Reply")
	if first == "" {
		first = "<absent>"
	}
	out.put(name+".x-reply", first)
	n := 0
	for _, h := range res.Headers {
		if h.Name == "x-reply" {
			n++
		}
	}
	out.put(name+".x-reply.count", strconv.Itoa(n))
	out.put(name+".body", string(res.Body))
}

// httpRPC makes the four requests of SPEC.md's http RPC to the runner's
// server, whose base URL is the env entry CONF_HTTP_BASE.
func httpRPC(ctx *warden.Context, _ []byte) ([]byte, error) {
	base, ok := ctx.EnvVar("CONF_HTTP_BASE")
	if !ok {
		return nil, warden.NewError("CONF_HTTP_BASE is not set", warden.CodeFailedPrecondition)
	}
	var out lines
	res, err := fetch.Get(base + "/get?x=1")
	showHTTP(&out, "get", res, err)
	headers := []fetch.Header{{Name: "X-Conformance", Value: "conf"}, {Name: "Content-Type", Value: "text/plain"}}
	res, err = fetch.Request("POST", base+"/post", headers, []byte("héllo"), 0)
	showHTTP(&out, "post", res, err)
	res, err = fetch.Post(base+"/missing", "text/plain", []byte("x"))
	showHTTP(&out, "missing", res, err)
	res, err = fetch.Get("http://example.com/conformance?secret=1")
	showHTTP(&out, "refused", res, err)
	return []byte(out.String()), nil
}
