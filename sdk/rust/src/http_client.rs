//! HTTP: custom HTTP handlers (ABI 1.1; [`HttpRequest`], [`HttpResponse`],
//! registered with [`Registrar::http`](crate::Registrar::http)) and
//! outbound requests (ABI 1.2, `http_request`): [`request`], [`get`] and
//! [`post`].
//!
//! A plugin may reach only the URLs its operator grants in the manifest
//! `NAME.toml` beside `NAME.wasm`:
//!
//! ```toml
//! [http]
//! allow = ["https://api.example.com", "http://127.0.0.1:*"]
//! ```
//!
//! Anything else fails with NOT_GRANTED before a connection is made, and so
//! does a redirect to a URL, or a name that resolves to an address, the
//! grants do not allow.
//!
//! ```no_run
//! use warden::http;
//! # fn f() -> Result<(), warden::Error> {
//! let r = http::get("https://api.example.com/items/7")?;
//! if r.status() == 200 {
//!     let kind = r.header("content-type").unwrap_or("");
//!     warden::info!("{} bytes of {}", r.body().len(), kind);
//! }
//! let r = http::post("https://api.example.com/items", "application/json", br#"{"n":1}"#)?;
//! let r = http::request(
//!     "PUT",
//!     "https://api.example.com/items/7",
//!     &[("Authorization", "Bearer t"), ("Content-Type", "text/plain")],
//!     b"seven",
//!     Some(std::time::Duration::from_secs(2)),
//! )?;
//! # let _ = r; Ok(()) }
//! ```
//!
//! A 4xx or 5xx answer is a [`Response`]: its status tells. An [`Error`]
//! means there was no answer, and converts to a [`crate::Error`] with `?`.

use std::fmt;
use std::time::Duration;

use crate::codec;
use crate::error::Code;
use crate::hostcall::{last_error_or, read_buffer};
use crate::sys::{self, status};

pub use crate::handler::{HttpHandler, HttpRequest, HttpResponse, APPLICATION_JSON, TEXT_PLAIN};

/// Response is the answer to an outbound request: its status, its headers
/// (names lower-cased, a repeated header once per value, in the order
/// received) and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// status returns the HTTP status, such as 200 or 404.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// headers returns every header, once per value, in the order received.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// header returns the first value of header `name`, which is
    /// case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// header_values returns every value of header `name`, which is
    /// case-insensitive, in the order received.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// body returns the body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// text returns the body as text; invalid UTF-8 is replaced with U+FFFD.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// into_body returns the body, consuming the response.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }
}

/// Error is an outbound request that got no response: the ABI status (such
/// as [`status::NOT_GRANTED`]) and the host's message, which says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    status: i32,
    message: String,
}

impl Error {
    fn from_status(st: i32) -> Error {
        Error {
            status: st,
            message: last_error_or(st),
        }
    }

    /// status returns the ABI status, a negative number such as
    /// `sys::status::HTTP_FAILED`.
    pub fn status(&self) -> i32 {
        self.status
    }

    /// message returns the host's message, such as
    /// `http_request: GET https://evil.example:443/path not allowed by the grants of plugin "fetch"`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// is_not_granted reports NOT_GRANTED: the plugin's grants do not allow
    /// the URL, the address its name resolved to, or a redirect.
    pub fn is_not_granted(&self) -> bool {
        self.status == status::NOT_GRANTED
    }

    /// is_http_failed reports HTTP_FAILED: no response (DNS, connection,
    /// TLS, protocol, too many redirects, the request's own timeout).
    pub fn is_http_failed(&self) -> bool {
        self.status == status::HTTP_FAILED
    }

    /// is_cancelled reports CANCELLED: the call's deadline passed.
    pub fn is_cancelled(&self) -> bool {
        self.status == status::CANCELLED
    }

    /// is_limit_exceeded reports LIMIT_EXCEEDED: a body, the URL or the
    /// headers over the limits, or too many concurrent requests.
    pub fn is_limit_exceeded(&self) -> bool {
        self.status == status::LIMIT_EXCEEDED
    }

    /// code returns the gRPC code a handler fails with when it returns this
    /// error: PERMISSION_DENIED for NOT_GRANTED, UNAVAILABLE for
    /// HTTP_FAILED, DEADLINE_EXCEEDED for CANCELLED, RESOURCE_EXHAUSTED for
    /// LIMIT_EXCEEDED, INTERNAL otherwise (a bad request is the plugin's bug).
    pub fn code(&self) -> Code {
        match self.status {
            status::NOT_GRANTED => Code::PermissionDenied,
            status::HTTP_FAILED => Code::Unavailable,
            status::CANCELLED => Code::DeadlineExceeded,
            status::LIMIT_EXCEEDED => Code::ResourceExhausted,
            _ => Code::Internal,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", status::name(self.status), self.message)
    }
}

impl std::error::Error for Error {}

/// An outbound request's error fails the call with [`Error::code`] and
/// "STATUS: message".
impl From<Error> for crate::Error {
    fn from(e: Error) -> crate::Error {
        crate::Error::new(e.code(), e.to_string())
    }
}

/// timeout_ms converts a timeout for the wire: None is 0 (the plugin's
/// configured timeout); anything else is at least 1 ms and at most u32::MAX.
fn timeout_ms(t: Option<Duration>) -> u32 {
    match t {
        None => 0,
        Some(d) => u32::try_from(d.as_millis()).unwrap_or(u32::MAX).max(1),
    }
}

/// request sends an HTTP request and returns the response. `method` is an
/// HTTP token such as `"GET"` (empty means GET); `url` is absolute
/// (`http://` or `https://`); `headers` are sent in order, a name once per
/// value; `timeout` shortens the plugin's configured timeout (None keeps
/// it), and the call's deadline bounds both.
///
/// # Errors
///
/// NOT_GRANTED (the grants do not allow the URL), HTTP_FAILED (no
/// response), CANCELLED, LIMIT_EXCEEDED, BAD_ARGUMENT (a bad method, URL
/// or header, or a header the host manages such as `Host` or
/// `Content-Length`), NOT_ALLOWED (in init): see [`Error`]. INTERNAL when
/// the host's response cannot be decoded.
pub fn request<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    url: &str,
    headers: &[(K, V)],
    body: &[u8],
    timeout: Option<Duration>,
) -> Result<Response, Error> {
    let req = codec::encode_http_request(method, url, headers, body, timeout_ms(timeout));
    // SAFETY: req is borrowed for the duration of the call.
    let n = unsafe { sys::http_request(req.as_ptr(), req.len()) };
    if n < 0 {
        return Err(Error::from_status(
            i32::try_from(n).unwrap_or(status::INTERNAL),
        ));
    }
    // SAFETY: result_read writes at most cap bytes at ptr.
    let buf = read_buffer(|ptr, cap| unsafe { sys::result_read(ptr, cap) })
        .map_err(Error::from_status)?;
    let (st, headers, body) = codec::decode_http_response(&buf).map_err(|e| Error {
        status: status::INTERNAL,
        message: format!("decode http_request response: {}", e),
    })?;
    Ok(Response {
        status: u16::try_from(st).unwrap_or(u16::MAX),
        headers,
        body,
    })
}

/// get sends a GET request to `url`, with no headers.
///
/// # Errors
///
/// As [`request`].
pub fn get(url: &str) -> Result<Response, Error> {
    request::<&str, &str>("GET", url, &[], &[], None)
}

/// post sends a POST request to `url` with `body` and its `Content-Type`.
///
/// # Errors
///
/// As [`request`].
pub fn post(url: &str, content_type: &str, body: &[u8]) -> Result<Response, Error> {
    request("POST", url, &[("Content-Type", content_type)], body, None)
}

#[cfg(test)]
#[path = "http_client_tests.rs"]
mod tests;
