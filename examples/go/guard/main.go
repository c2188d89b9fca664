// Command guard is Nakama's server-to-server RPC example in Go, with the
// same behaviour as server_rpc and server_rpc_flagged in plugins/seed:
//
//   - server_rpc refuses user calls in its own code (PERMISSION_DENIED), as
//     Nakama's ServerRPC example does, and returns {"ok":true};
//   - server_rpc_flagged is the same RPC without the guard, registered
//     server-only, so the host refuses user calls before it runs.
package main

import warden "github.com/warden-rpc/warden/sdk/go"

// okResponse is the response of both RPCs (the examples' "<JsonResponse>").
const okResponse = `{"ok":true}`

// main is required by Go and never called: the host calls the exports.
func main() {}

func init() { warden.Init(initModule) }

func initModule(_ *warden.Context) error {
	if err := warden.Register("server_rpc", serverRPC); err != nil {
		return err
	}
	return warden.RegisterServerOnly("server_rpc_flagged", serverRPCFlagged)
}

// isUserCall reports whether a user made the call: server-to-server calls
// never carry a user ID.
func isUserCall(ctx *warden.Context) bool {
	id, ok := ctx.UserID()
	return ok && id != ""
}

// serverRPC may only be called server to server; it ignores its payload.
func serverRPC(ctx *warden.Context, _ []byte) ([]byte, error) {
	if isUserCall(ctx) {
		ctx.Logger().Error("rpc was called by a user")
		return nil, warden.NewError("rpc is only callable via server to server", warden.CodePermissionDenied)
	}
	// Valid server to server RPC call, continue executing the RPC...
	return []byte(okResponse), nil
}

// serverRPCFlagged is serverRPC without the guard: the host refuses user
// calls because it is registered server-only.
func serverRPCFlagged(_ *warden.Context, _ []byte) ([]byte, error) {
	return []byte(okResponse), nil
}
