package sys

import "runtime"

// HTTPRequest calls http_request with an encoded request (ABI 1.2); the
// response goes to the result slot, and it returns the response's length
// or a negative status.
func HTTPRequest(req []byte) int64 {
	n := http_request(bytesPtr(req), uint32(len(req)))
	runtime.KeepAlive(req)
	return n
}

// TakeResult reads the result slot after a call that put its result there
// and returned n, its length: it returns the result, or n when n is a
// (negative) status, or result_read's failure.
func TakeResult(n int64) ([]byte, int64) {
	if n < 0 {
		return nil, n
	}
	b, st := ResultRead()
	return b, int64(st)
}

// Failure returns the status of a failed call that returned st (Internal
// when st is not a status) and the host's message, "" when it gave none.
func Failure(st int64) (int32, string) {
	s := int32(st)
	if st < -1<<31 || st >= 0 {
		s = Internal
	}
	msg, _ := LastError()
	return s, msg
}
