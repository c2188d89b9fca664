package host

import (
	"context"
	"errors"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

// TestHost_callAfterClose: a call to a closed host, by RPC id or by a
// route taken before the close, is refused with code 14 as closing, not
// retried as if a reload had swapped its plugin out.
func TestHost_callAfterClose(t *testing.T) {
	dir := t.TempDir()
	deploy(t, dir, "ver", fixture(t, "reload/ver_v1.wasm"))
	h := newTestHost(t, dir, nil)
	routes, _ := h.Routes()
	if len(routes) == 0 {
		t.Fatal("the fixture registered no route")
	}
	if res, err := h.Call(context.Background(), &Request{ID: "ver"}); err != nil || string(res.Output) != "v1" {
		t.Fatalf("before the close: %q, %v", res.Output, err)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() (Result, error){
		"Call": func() (Result, error) { return h.Call(context.Background(), &Request{ID: "ver"}) },
		"CallRoute": func() (Result, error) {
			return h.CallRoute(context.Background(), routes[0], &Request{HTTP: &HTTPRequest{Method: "GET", Path: "/ver", Route: "/ver"}})
		},
	} {
		_, err := call()
		var ce *CallError
		if !errors.As(err, &ce) || ce.Code != abi.CodeUnavailable || ce.Refused != RefusedClosing {
			t.Errorf("%s after Close: %v, want code 14, refused as closing", name, err)
		}
	}
}
