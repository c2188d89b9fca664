package warden

import (
	"errors"
	"strconv"
)

// Code is a gRPC status code (ABI.md section 5). The HTTP API answers an
// RPC that fails with a code with the HTTP status ABI.md lists for it.
type Code int32

// Codes, as Nakama's runtime names them.
const (
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

var codeNames = [...]string{
	"", "CANCELED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
}

// String returns the code's ABI.md name, such as "NOT_FOUND", or its number
// outside 1..16.
func (c Code) String() string {
	if c >= 1 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return strconv.Itoa(int(c))
}

// Error fails an RPC or the plugin's init with a code and a message: a
// handler that returns one (even wrapped) fails with Code, and the client
// sees Message. It is Nakama's runtime.Error.
type Error struct {
	Code    Code
	Message string
}

// NewError returns an Error with message and code, as Nakama's
// runtime.NewError(message, code). The host turns a code outside 1..16
// into CodeInternal.
func NewError(message string, code Code) *Error {
	return &Error{Code: code, Message: message}
}

// Error implements error; it returns the message, as the client sees it.
func (e *Error) Error() string { return e.Message }

// toError turns what a handler returned into the code and message for
// error_set: an *Error keeps its own; a Status (from a db error, say) is
// CodeUnavailable when retryable and CodeInternal otherwise; anything else
// is CodeInternal with err's text.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e
	}
	var st Status
	if errors.As(err, &st) && st == StatusDBBusy {
		return &Error{CodeUnavailable, err.Error()}
	}
	return &Error{CodeInternal, err.Error()}
}
