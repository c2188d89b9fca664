//! The error a handler or init returns: a gRPC-style code and a message,
//! as Nakama's `runtime.NewError(msg, code)`.

use std::fmt;

use crate::db::DbError;
use crate::json::ParseError;

/// Code is a gRPC status code (ABI.md section 5). The HTTP API answers with
/// the status that ABI.md lists for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Code {
    Canceled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

const CODES: [(Code, &str); 16] = [
    (Code::Canceled, "CANCELED"),
    (Code::Unknown, "UNKNOWN"),
    (Code::InvalidArgument, "INVALID_ARGUMENT"),
    (Code::DeadlineExceeded, "DEADLINE_EXCEEDED"),
    (Code::NotFound, "NOT_FOUND"),
    (Code::AlreadyExists, "ALREADY_EXISTS"),
    (Code::PermissionDenied, "PERMISSION_DENIED"),
    (Code::ResourceExhausted, "RESOURCE_EXHAUSTED"),
    (Code::FailedPrecondition, "FAILED_PRECONDITION"),
    (Code::Aborted, "ABORTED"),
    (Code::OutOfRange, "OUT_OF_RANGE"),
    (Code::Unimplemented, "UNIMPLEMENTED"),
    (Code::Internal, "INTERNAL"),
    (Code::Unavailable, "UNAVAILABLE"),
    (Code::DataLoss, "DATA_LOSS"),
    (Code::Unauthenticated, "UNAUTHENTICATED"),
];

impl Code {
    /// from_i32 returns the code numbered `n`, or None outside 1..16.
    pub fn from_i32(n: i32) -> Option<Code> {
        CODES.iter().map(|c| c.0).find(|c| *c as i32 == n)
    }

    /// name returns the code's ABI.md name, such as "NOT_FOUND".
    pub fn name(self) -> &'static str {
        CODES[self as usize - 1].1
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error fails an RPC or a plugin's init with `code` and `message`. When a
/// handler returns it, the SDK passes both to `error_set`, and the caller
/// gets the message with the HTTP status of the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: Code,
    pub message: String,
}

impl Error {
    /// new returns an Error with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// A database error becomes UNAVAILABLE when it is retryable (DB_BUSY), and
/// INTERNAL otherwise, with the host's message.
impl From<DbError> for Error {
    fn from(e: DbError) -> Error {
        let code = if e.is_busy() {
            Code::Unavailable
        } else {
            Code::Internal
        };
        Error::new(code, e.to_string())
    }
}

/// A JSON syntax error is the caller's: INVALID_ARGUMENT.
impl From<ParseError> for Error {
    fn from(e: ParseError) -> Error {
        Error::new(Code::InvalidArgument, e.to_string())
    }
}

/// Invalid UTF-8 input is the caller's: INVALID_ARGUMENT.
impl From<std::str::Utf8Error> for Error {
    fn from(_: std::str::Utf8Error) -> Error {
        Error::new(Code::InvalidArgument, "payload is not valid UTF-8")
    }
}

/// Invalid UTF-8 input is the caller's: INVALID_ARGUMENT.
impl From<std::string::FromUtf8Error> for Error {
    fn from(e: std::string::FromUtf8Error) -> Error {
        e.utf8_error().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_numbers_and_names() {
        for n in 1..=16 {
            let c = Code::from_i32(n).unwrap();
            assert_eq!(c as i32, n);
            assert_eq!(CODES[n as usize - 1].1, c.name());
        }
        assert_eq!(Code::from_i32(0), None);
        assert_eq!(Code::from_i32(17), None);
        assert_eq!(Code::PermissionDenied as i32, 7);
        assert_eq!(Code::Unauthenticated.name(), "UNAUTHENTICATED");
    }

    #[test]
    fn from_utf8_is_invalid_argument() {
        let bad = vec![0xff];
        let e: Error = std::str::from_utf8(&bad).unwrap_err().into();
        assert_eq!(e.code, Code::InvalidArgument);
    }
}
