// Command echo is the smallest useful Warden plugin, in Go: the Go twin of
// plugins/echo.
//
//   - echo: returns the payload bytes unchanged (any bytes, even invalid UTF-8).
//   - whoami: returns {"user_id":...,"username":...}, with null for an absent
//     value (a server-to-server call has no user).
package main

import (
	"encoding/json"

	warden "github.com/warden-rpc/warden/sdk/go"
)

// main is required by Go and never called: the host calls the exports.
func main() {}

func init() { warden.Init(initModule) }

func initModule(_ *warden.Context) error {
	if err := warden.Register("echo", echo); err != nil {
		return err
	}
	return warden.Register("whoami", whoami)
}

// echo returns the payload unchanged.
func echo(_ *warden.Context, payload []byte) ([]byte, error) {
	return payload, nil
}

// whoami returns the caller's user ID and username as JSON; it ignores the payload.
func whoami(ctx *warden.Context, _ []byte) ([]byte, error) {
	var who struct {
		UserID   *string `json:"user_id"`
		Username *string `json:"username"`
	}
	if id, ok := ctx.UserID(); ok {
		who.UserID = &id
	}
	if name, ok := ctx.Username(); ok {
		who.Username = &name
	}
	return json.Marshal(who)
}
