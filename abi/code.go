package abi

// Code is a gRPC-style error code that a plugin passes to error_set and that
// the HTTP API returns in its error body, as Nakama's runtime.NewError does.
type Code int32

// Error codes, as in gRPC and Nakama.
const (
	CodeOK                 Code = 0
	CodeCanceled           Code = 1
	CodeUnknown            Code = 2
	CodeInvalidArgument    Code = 3
	CodeDeadlineExceeded   Code = 4
	CodeNotFound           Code = 5
	CodeAlreadyExists      Code = 6
	CodePermissionDenied   Code = 7
	CodeResourceExhausted  Code = 8
	CodeFailedPrecondition Code = 9
	CodeAborted            Code = 10
	CodeOutOfRange         Code = 11
	CodeUnimplemented      Code = 12
	CodeInternal           Code = 13
	CodeUnavailable        Code = 14
	CodeDataLoss           Code = 15
	CodeUnauthenticated    Code = 16
)

// Normalize returns c when it is an error code (1..16), and CodeInternal
// otherwise, as Nakama's Go runtime does.
func (c Code) Normalize() Code {
	if c < CodeCanceled || c > CodeUnauthenticated {
		return CodeInternal
	}
	return c
}

// HTTPStatus returns the HTTP status for c, using grpc-gateway's table that
// Nakama uses. Codes outside 0..16 map to 500.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeOK:
		return 200
	case CodeCanceled:
		return 499
	case CodeInvalidArgument, CodeFailedPrecondition, CodeOutOfRange:
		return 400
	case CodeDeadlineExceeded:
		return 504
	case CodeNotFound:
		return 404
	case CodeAlreadyExists, CodeAborted:
		return 409
	case CodePermissionDenied:
		return 403
	case CodeResourceExhausted:
		return 429
	case CodeUnimplemented:
		return 501
	case CodeUnavailable:
		return 503
	case CodeUnauthenticated:
		return 401
	}
	return 500
}
