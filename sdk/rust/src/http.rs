//! Custom HTTP handlers (ABI 1.1, ABI.md 3.7): the request a handler gets
//! and the response it returns. Register one with
//! [`Registrar::http`](crate::Registrar::http).

use crate::context::Context;
use crate::error::{Code, Error};
use crate::hostcall::last_error_or;
use crate::json::Json;
use crate::sys::{self, status};

/// HttpHandler serves a custom HTTP route: it gets the call's context and
/// the request, and returns the response or an [`Error`]. On `Err` the
/// host answers with the code's HTTP status and a JSON body
/// `{"code":N,"message":"..."}`.
pub type HttpHandler = fn(&Context, &HttpRequest) -> Result<HttpResponse, Error>;

/// HttpRequest is the request an [`HttpHandler`] serves: the body is read
/// when the call starts; everything else is asked of the host when read, so
/// a handler pays only for what it uses (under the host's deadline checks,
/// even a short string costs a loop).
#[derive(Debug)]
pub struct HttpRequest {
    body: Vec<u8>,
    ctx: Context,
}

impl HttpRequest {
    /// Makes the request of the current call; `body` is its input.
    pub(crate) fn read(body: Vec<u8>) -> HttpRequest {
        HttpRequest {
            body,
            ctx: Context::new(),
        }
    }

    /// method returns the request method, such as `"GET"`.
    pub fn method(&self) -> String {
        self.ctx.http_method().unwrap_or_default()
    }

    /// path returns the request path, as received (decoded), such as `"/items/42"`.
    pub fn path(&self) -> String {
        self.ctx.http_path().unwrap_or_default()
    }

    /// route returns the pattern the handler registered, such as `"/items/:id"`.
    pub fn route(&self) -> String {
        self.ctx.http_route().unwrap_or_default()
    }

    /// param returns the value of route parameter `:name` or `*name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.ctx.route_param(name)
    }

    /// header returns the first value of a request header; `name` is
    /// case-insensitive. `Authorization` is there only in handlers
    /// registered without a session ([`Registrar::http`](crate::Registrar::http)).
    pub fn header(&self, name: &str) -> Option<String> {
        self.ctx.header(name)
    }

    /// headers returns the request headers sorted by canonical name, once per value.
    pub fn headers(&self) -> Vec<(String, String)> {
        self.ctx.headers()
    }

    /// query returns the first value of a query parameter; `name` is case-sensitive.
    pub fn query(&self, name: &str) -> Option<String> {
        self.ctx.query(name)
    }

    /// query_params returns the query parameters sorted by name, once per value.
    pub fn query_params(&self) -> Vec<(String, String)> {
        self.ctx.query_params()
    }

    /// body returns the request body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// body_str returns the request body as text.
    ///
    /// # Errors
    ///
    /// INVALID_ARGUMENT when the body is not valid UTF-8.
    pub fn body_str(&self) -> Result<&str, Error> {
        Ok(std::str::from_utf8(&self.body)?)
    }

    /// body_json parses the request body as JSON.
    ///
    /// # Errors
    ///
    /// INVALID_ARGUMENT when the body is not valid JSON.
    pub fn body_json(&self) -> Result<Json, Error> {
        Ok(Json::from_slice(&self.body)?)
    }
}

/// The Content-Type that [`HttpResponse::text`] sets.
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// The Content-Type that [`HttpResponse::json`] sets.
pub const APPLICATION_JSON: &str = "application/json";

/// HttpResponse is what an [`HttpHandler`] answers: a status (200 unless
/// set), headers in order, and a body.
///
/// ```
/// use warden::HttpResponse;
/// let r = HttpResponse::new(201).header("Location", "/items/7").body("created");
/// assert_eq!((r.status(), r.body_bytes()), (201, &b"created"[..]));
/// ```
///
/// After the handler returns, the SDK sends them with `output_set_status`,
/// `output_add_header` and `output_write`. The host refuses a status
/// outside 200..599, the headers it manages (`Content-Length`,
/// `Warden-Plugin`, hop-by-hop headers), those a reverse proxy acts on
/// (`X-Accel-Redirect`, `X-Sendfile`) and those that act on the whole
/// origin (`Service-Worker-Allowed`, `Clear-Site-Data`, and the others
/// ABI.md lists under `output_add_header`); the
/// call then fails with code 13 and the host's message. The host adds a
/// sandboxing `Content-Security-Policy` to every response (ABI.md 3.7).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    status: u16,
    /// The Content-Type that [`HttpResponse::text`] or
    /// [`HttpResponse::json`] set, sent before `headers`: a constant, so
    /// those responses allocate nothing for their header.
    content_type: Option<&'static str>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Two responses are equal when they send the same status, headers (in
/// order) and body, however they were built: `text(s)` equals `new(200)`
/// with the same Content-Type added by `header` and the same body.
impl PartialEq for HttpResponse {
    fn eq(&self, other: &HttpResponse) -> bool {
        self.status == other.status
            && self.body == other.body
            && self.sent_headers().eq(other.sent_headers())
    }
}

impl Eq for HttpResponse {}

impl Default for HttpResponse {
    /// An empty 200 response.
    fn default() -> HttpResponse {
        HttpResponse::new(200)
    }
}

impl HttpResponse {
    /// new returns an empty response with `status`.
    pub fn new(status: u16) -> HttpResponse {
        HttpResponse {
            status,
            content_type: None,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// text returns a 200 response with a `text/plain; charset=utf-8` body.
    pub fn text(body: impl Into<String>) -> HttpResponse {
        HttpResponse {
            content_type: Some(TEXT_PLAIN),
            ..HttpResponse::new(200)
        }
        .body(body.into())
    }

    /// json returns a 200 response with `value` as an `application/json` body.
    pub fn json(value: &Json) -> HttpResponse {
        HttpResponse {
            content_type: Some(APPLICATION_JSON),
            ..HttpResponse::new(200)
        }
        .body(value.to_string())
    }

    /// with_status replaces the status.
    pub fn with_status(mut self, status: u16) -> HttpResponse {
        self.status = status;
        self
    }

    /// header adds a header; a repeated name is sent once per value.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpResponse {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// body replaces the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> HttpResponse {
        self.body = body.into();
        self
    }

    /// status returns the status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// headers returns the headers, in the order they are sent: the
    /// Content-Type of [`HttpResponse::text`] or [`HttpResponse::json`]
    /// first, then the others in the order they were added.
    pub fn headers(&self) -> Vec<(&str, &str)> {
        self.sent_headers().collect()
    }

    /// The headers in the order [`send`](HttpResponse::send) sends them,
    /// without collecting them.
    fn sent_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        let preset = self.content_type.map(|v| ("Content-Type", v));
        preset
            .into_iter()
            .chain(self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// body_bytes returns the body.
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// Sends the response to the host: status (when not the default 200),
    /// each header, then the body.
    pub(crate) fn send(&self) -> Result<(), Error> {
        if self.status != 200 {
            // SAFETY: output_set_status takes no pointers.
            let st = unsafe { sys::output_set_status(i32::from(self.status)) };
            check(st, || format!("set status {}", self.status))?;
        }
        for (k, v) in self.sent_headers() {
            // SAFETY: k and v are borrowed for the duration of the call.
            let st = unsafe { sys::output_add_header(k.as_ptr(), k.len(), v.as_ptr(), v.len()) };
            check(st, || format!("add header {:?}", k))?;
        }
        crate::plugin::write_output(&self.body)
    }
}

/// A host call that fails while sending a response is the plugin's bug: INTERNAL.
fn check(st: i32, what: impl FnOnce() -> String) -> Result<(), Error> {
    if st == status::OK {
        return Ok(());
    }
    let msg = format!("{}: {}", what(), last_error_or(st));
    Err(Error::new(Code::Internal, msg))
}

/// Runs HTTP handler `h` on the current call, whose input is `body`.
pub(crate) fn serve(h: HttpHandler, c: &Context, body: Vec<u8>) -> Result<(), Error> {
    h(c, &HttpRequest::read(body))?.send()
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
