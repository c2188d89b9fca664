package host

import (
	"context"

	"github.com/tetratelabs/wazero/api"

	"github.com/warden-rpc/warden/abi"
)

// httpRequest: (req_ptr, req_len) -> length or -status. Sends the encoded
// request (ABI.md 4.4, borrowed) under the plugin's grants and puts the
// encoded response in the result slot.
func httpRequest(_ context.Context, st *callState, _ api.Memory, stack []uint64) {
	lenOrStatus(stack, 0, st.fail(abi.StatusUnimplemented, "http_request is not implemented yet"))
}
