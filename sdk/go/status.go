package warden

// Status is the result of a host function for an expected failure (ABI.md
// 1.2). It implements error, so a failure can be matched with errors.Is:
//
//	if errors.Is(err, warden.StatusDBBusy) { /* roll back and retry */ }
type Status int32

// Status values, as ABI.md 1.2 lists them.
const (
	StatusOK             Status = 0
	StatusNotFound       Status = -1
	StatusBadArgument    Status = -2
	StatusInvalidMemory  Status = -3
	StatusNotAllowed     Status = -4
	StatusAlreadyExists  Status = -5
	StatusLimitExceeded  Status = -6
	StatusDBError        Status = -7
	StatusUnimplemented  Status = -8
	StatusInternal       Status = -9
	StatusCancelled      Status = -10
	StatusDBBusy         Status = -11
	StatusTxFailed       Status = -12
	StatusTxState        Status = -13
	StatusDBReadOnly     Status = -14
	StatusBufferTooSmall Status = -15
	StatusNotGranted     Status = -16 // 1.2: an http_request the plugin's grants do not allow
	StatusHTTPFailed     Status = -17 // 1.2: an http_request that got no response
)

var statusNames = [...]string{
	"OK", "NOT_FOUND", "BAD_ARGUMENT", "INVALID_MEMORY", "NOT_ALLOWED",
	"ALREADY_EXISTS", "LIMIT_EXCEEDED", "DB_ERROR", "UNIMPLEMENTED", "INTERNAL",
	"CANCELLED", "DB_BUSY", "TX_FAILED", "TX_STATE", "DB_READ_ONLY", "BUFFER_TOO_SMALL",
	"NOT_GRANTED", "HTTP_FAILED",
}

// String returns the status name as ABI.md spells it, such as "TX_STATE",
// or "UNKNOWN".
func (s Status) String() string {
	if s <= 0 && int(-s) < len(statusNames) {
		return statusNames[-s]
	}
	return "UNKNOWN"
}

// Error implements error; it returns the status name.
func (s Status) Error() string { return s.String() }
