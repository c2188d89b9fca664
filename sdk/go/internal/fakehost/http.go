package fakehost

// notGranted is ABI 1.2's NOT_GRANTED.
const notGranted = -16

// HTTPRequest is http_request (ABI 1.2): it records the encoded request
// and answers with HTTPResponse, or fails with HTTPFail and HTTPFailMsg.
// Like the host, it is NOT_ALLOWED in init.
func (h *Host) HTTPRequest(req []byte) int64 {
	if h.Init {
		return int64(h.fail(notAllowed, "http_request is not allowed in init"))
	}
	h.HTTPRequests = append(h.HTTPRequests, append([]byte(nil), req...))
	if h.HTTPResponse == nil {
		st, msg := h.HTTPFail, h.HTTPFailMsg
		if st == 0 {
			st, msg = notGranted, `http_request: not allowed by the grants of plugin "fake"`
		}
		return int64(h.fail(st, msg))
	}
	h.slot, h.slotFilled = h.HTTPResponse, true
	return int64(len(h.slot))
}
