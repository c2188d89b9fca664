//go:build !wasip1

package warden

import (
	"strings"

	"github.com/warden-rpc/warden/sdk/go/internal/fakehost"
)

// FakeHost is a plugin initialised on the SDK's in-process fake host, for
// a plugin's unit tests with go test (outside wasip1 only). RPC and HTTP
// run a registered handler as the server's warden_handle would. The
// context is empty but for what a call sets (an HTTP call's method, path
// and route), and every database statement fails. The fake is one per
// process, like a wasm instance: tests that use it must not run in
// parallel.
type FakeHost struct {
	rpcs   map[string]int32
	routes map[string]int32
}

// FakeResponse is what an HTTP handler answered on the fake host.
type FakeResponse struct {
	Status  int
	Headers [][2]string
	Body    []byte
}

// StartFakeHost resets the fake host and runs init as the plugin's init,
// as warden_init would.
//
// # Errors
//
// The *Error init set.
func StartFakeHost(init InitFunc) (*FakeHost, error) {
	h := fakehost.Reset()
	h.Init = true
	Init(init)
	rc := initPlugin()
	h.Init = false
	if rc != 0 {
		return nil, fakeError(h)
	}
	f := &FakeHost{rpcs: map[string]int32{}, routes: map[string]int32{}}
	for _, r := range h.Registered {
		if r.Methods == "" {
			f.rpcs[r.ID] = r.HandlerID
		} else {
			f.routes[r.ID] = r.HandlerID
		}
	}
	return f, nil
}

// RPC runs the handler registered for RPC id (any case) on payload and
// returns its output.
//
// # Errors
//
// The *Error the handler set; CodeNotFound for an id not registered.
func (f *FakeHost) RPC(id string, payload []byte) ([]byte, error) {
	hid, ok := f.rpcs[strings.ToLower(id)]
	if !ok {
		return nil, NewError("rpc "+id+" is not registered", CodeNotFound)
	}
	h, err := fakeCall(hid, map[string]string{KeyExecutionMode: "rpc"}, payload)
	if err != nil {
		return nil, err
	}
	return h.Output, nil
}

// HTTP runs the handler registered for pattern as a request with method,
// path and body, and returns its response.
//
// # Errors
//
// The *Error the handler set; CodeNotFound for a pattern not registered.
func (f *FakeHost) HTTP(method, pattern, path string, body []byte) (*FakeResponse, error) {
	hid, ok := f.routes[pattern]
	if !ok {
		return nil, NewError("route "+pattern+" is not registered", CodeNotFound)
	}
	keys := map[string]string{KeyExecutionMode: "http", KeyHTTPMethod: method, KeyHTTPPath: path, KeyHTTPRoute: pattern}
	h, err := fakeCall(hid, keys, body)
	if err != nil {
		return nil, err
	}
	r := &FakeResponse{Status: int(h.Status), Headers: h.Headers, Body: h.Output}
	if r.Status == 0 {
		r.Status = 200
	}
	return r, nil
}

// fakeCall runs handler hid on a fresh call state, keeping the registrations.
func fakeCall(hid int32, keys map[string]string, input []byte) (*fakehost.Host, error) {
	h := fakehost.Get()
	h.Input, h.Output, h.ErrSet, h.Status, h.Headers = input, nil, false, 0, nil
	h.Ctx = map[string][]byte{}
	for k, v := range keys {
		h.Ctx[k] = []byte(v)
	}
	if handle(hid, int32(len(input))) != 0 {
		return nil, fakeError(h)
	}
	return h, nil
}

func fakeError(h *fakehost.Host) error {
	if !h.ErrSet {
		return NewError("failed without setting an error", CodeInternal)
	}
	return NewError(h.ErrMsg, Code(h.ErrCode))
}
