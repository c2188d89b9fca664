package host

import (
	"bytes"
	"context"

	"github.com/tetratelabs/wazero/api"

	"github.com/warden-rpc/warden/abi"
)

// httpRequest: (req_ptr, req_len) -> length or -status. Decodes the
// request (ABI.md 4.4; borrowed, and the body copied, as the HTTP client
// may read it after the call returns), sends it with the plugin's outbound
// client under its grants, limits and the call's deadline, and puts the
// encoded response in the result slot, replacing any unread result.
func httpRequest(ctx context.Context, st *callState, m api.Memory, stack []uint64) {
	n := u32(stack, 1)
	// The encoding's overhead is a few dozen bytes, plus 8 per header.
	maxLen := uint64(abi.MaxURLBytes) + uint64(st.p.manifest.HTTP.MaxRequestBytes) +
		abi.MaxOutboundHeaders*(abi.MaxHeaderBytes+8) + 64
	if uint64(n) > maxLen {
		lenOrStatus(stack, 0, st.fail(abi.StatusLimitExceeded, "http_request: request over the plugin's limits"))
		return
	}
	b, ok := guestRead(m, u32(stack, 0), n)
	if !ok {
		lenOrStatus(stack, 0, st.fail(abi.StatusInvalidMemory, "http_request: request out of bounds"))
		return
	}
	req, err := abi.DecodeHTTPRequest(b)
	if err != nil {
		lenOrStatus(stack, 0, st.fail(abi.StatusBadArgument, "http_request: bad request encoding: "+err.Error()))
		return
	}
	req.Body = bytes.Clone(req.Body)
	// ctx is the instance's reusable callCtx: a context derived from it
	// would watch it from a goroutine that can outlive this host call and
	// read its fields after the call resets them. Its Done closes only at
	// the call's deadline, so a plain context with that deadline is the
	// same to the request.
	deadline, _ := ctx.Deadline()
	dctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	res, e := st.p.http.Do(dctx, req)
	if e != nil {
		if e.Status == abi.StatusCancelled {
			// The call's deadline passed: expire the call now rather than
			// race the guest back to a normal return before the host's
			// timer or sweeper (up to coarseCallTick late) does.
			if cc, ok := ctx.(*callCtx); ok {
				cc.expire()
			}
		}
		lenOrStatus(stack, 0, st.fail(e.Status, e.Msg))
		return
	}
	st.slot, st.slotSet = abi.AppendHTTPResponse(nil, res), true
	retLen(stack, int64(len(st.slot)))
}
