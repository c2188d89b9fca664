// Package warden is the Go SDK for Warden plugins: RPC handlers written in
// Go, compiled to WebAssembly with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o hello.wasm
//
// and loaded by the Warden server. It is a thin, idiomatic layer over the
// plugin ABI (abi/ABI.md in the Warden repository), shaped after Nakama's Go
// runtime: a plugin hands its init function to Init from a Go init
// function, the init function registers handlers with Register, and each
// handler gets a *Context and the payload and returns the output or an
// error made with NewError.
//
//	package main
//
//	import warden "github.com/warden-rpc/warden/sdk/go"
//
//	func main() {} // required by Go, never called
//
//	func init() { warden.Init(initModule) }
//
//	func initModule(ctx *warden.Context) error {
//		return warden.Register("echo", func(ctx *warden.Context, payload []byte) ([]byte, error) {
//			return payload, nil
//		})
//	}
//
// The package exports the ABI's entry points (warden_abi_v1, warden_init and
// warden_handle) itself, so importing it is all a plugin needs. A panic in
// init or in a handler is recovered and reported to the host with its
// message and location; the call fails with code 13 and the instance is
// discarded. Package db runs SQL.
//
// # Notes
//
//   - Each instance runs one call at a time on one thread; the host keeps a
//     pool of instances and may discard one at any time, so package-level
//     state is per instance and must not be relied on across calls.
//   - Goroutines must not outlive the call that started them: the host
//     does not run the instance between calls.
//   - fmt.Println and the standard log package write to stdout and stderr,
//     which the host logs at INFO and ERROR; time.Now and crypto/rand work
//     through WASI.
package warden

import (
	"strconv"

	"github.com/warden-rpc/warden/sdk/go/internal/sys"
)

// Handler serves one RPC: it gets the call's context and payload (any
// bytes) and returns the output, or an error that fails the call. Return
// an *Error (see NewError) to choose the code; any other error fails with
// CodeInternal and its text.
type Handler func(ctx *Context, payload []byte) ([]byte, error)

// InitFunc is a plugin's init, Nakama's InitModule: it runs once per
// instance, inside warden_init, and registers handlers. Its context has
// env, node, version, plugin_name and plugin_version. An error refuses the
// plugin with its message.
type InitFunc func(ctx *Context) error

// plugin is the instance's plugin: its init and handler table. A wasm
// instance has one thread, and each instance has its own copy.
var plugin struct {
	init     InitFunc
	handlers []Handler
	inInit   bool
}

// Init sets the plugin's init function. Call it from a Go init function
// (func init), which runs when the host initialises the instance; fn runs
// right after, in warden_init. A later call replaces fn.
func Init(fn InitFunc) { plugin.init = fn }

// Register registers h as RPC id (1..128 bytes of UTF-8, case-insensitive).
// Call it from the init function given to Init.
//
// # Errors
//
// An *Error: CodeAlreadyExists when id is registered already,
// CodeInvalidArgument for a bad id, CodeResourceExhausted past 1024 RPCs,
// CodeFailedPrecondition outside the init function.
func Register(id string, h Handler) error {
	return register("rpc "+strconv.Quote(id), h, func(hid int32) int32 { return sys.RPCRegister(id, hid, 0) })
}

// RegisterServerOnly is Register with the SERVER_ONLY flag: the host refuses
// a call that carries a user ID with CodePermissionDenied, before h runs.
func RegisterServerOnly(id string, h Handler) error {
	return register("rpc "+strconv.Quote(id), h, func(hid int32) int32 { return sys.RPCRegister(id, hid, sys.FlagServerOnly) })
}

// register adds h to the handler table and registers it with the host
// through reg, which gets h's handler id.
func register(what string, h Handler, reg func(handlerID int32) int32) error {
	if !plugin.inInit {
		return NewError("register "+what+": call Register from the init function given to warden.Init", CodeFailedPrecondition)
	}
	if h == nil {
		return NewError("register "+what+": nil handler", CodeInvalidArgument)
	}
	plugin.handlers = append(plugin.handlers, h)
	st := Status(reg(int32(len(plugin.handlers) - 1)))
	if st == StatusOK {
		return nil
	}
	plugin.handlers = plugin.handlers[:len(plugin.handlers)-1]
	code := CodeInternal
	switch st {
	case StatusAlreadyExists:
		code = CodeAlreadyExists
	case StatusBadArgument:
		code = CodeInvalidArgument
	case StatusLimitExceeded:
		code = CodeResourceExhausted
	}
	return NewError("register "+what+": "+lastError(st), code)
}

// lastError returns the host's message for the last failed host call, or
// the name of st when there is none.
func lastError(st Status) string {
	if msg, ok := sys.LastError(); ok && msg != "" {
		return msg
	}
	return st.String()
}
