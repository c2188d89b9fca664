//! Unit tests of a plugin, natively, against the SDK's fake host.
//!
//! Outside `wasm32` every import goes to an in-process fake host (one per
//! thread). [`FakeHost::start`] runs a plugin's init on it, as the server's
//! `warden_init` would, and [`FakeHost::rpc`] and [`FakeHost::http`] run a
//! registered handler, as `warden_handle` would, with the given input. The
//! context is empty but for what a call sets (an HTTP call's method, path
//! and route), and the database answers every query with DB_ERROR.
//!
//! ```ignore
//! #[test]
//! fn greets() {
//!     let host = warden::testing::FakeHost::start(init).unwrap();
//!     assert_eq!(host.rpc("greet", b"ann").unwrap(), b"hello, ann");
//! }
//! ```

use crate::plugin::{handle, init};
use crate::sys::{ctx, native};
use crate::{Code, Error, InitFn};

/// FakeHost is a plugin initialised on this thread's fake host.
#[derive(Debug)]
pub struct FakeHost {
    rpcs: Vec<(String, i32)>,
    routes: Vec<(String, i32)>,
}

/// Response is what an HTTP handler answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl FakeHost {
    /// start resets this thread's fake host and runs `f` as the plugin's
    /// init; it fails with the error init set.
    pub fn start(f: InitFn) -> Result<FakeHost, Error> {
        native::with(|h| *h = native::Fake::default());
        if init(f) != 0 {
            return Err(take_error());
        }
        let (rpcs, routes) = native::with(|h| {
            let rpcs = h.registered.iter().map(|(id, hid, _)| (id.clone(), *hid));
            let routes = h.routes.iter().map(|(p, _, hid, _)| (p.clone(), *hid));
            (rpcs.collect(), routes.collect())
        });
        Ok(FakeHost { rpcs, routes })
    }

    /// rpc runs the handler registered for RPC `id` (any case) on `payload`
    /// and returns its output, or the error it set. An unknown id is
    /// NOT_FOUND.
    pub fn rpc(&self, id: &str, payload: &[u8]) -> Result<Vec<u8>, Error> {
        let hid = find(&self.rpcs, &id.to_lowercase())?;
        run(
            hid,
            false,
            vec![(ctx::EXECUTION_MODE, ctx::MODE_RPC.to_string())],
            payload,
        )?;
        Ok(native::with(|h| std::mem::take(&mut h.output)))
    }

    /// http runs the handler registered for `pattern` as a request with
    /// `method`, `path` and `body`, and returns its response, or the error
    /// it set.
    pub fn http(
        &self,
        method: &str,
        pattern: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Response, Error> {
        let hid = find(&self.routes, pattern)?;
        let keys = vec![
            (ctx::EXECUTION_MODE, ctx::MODE_HTTP.to_string()),
            (ctx::HTTP_METHOD, method.to_string()),
            (ctx::HTTP_PATH, path.to_string()),
            (ctx::HTTP_ROUTE, pattern.to_string()),
        ];
        run(hid, true, keys, body)?;
        Ok(native::with(|h| Response {
            status: h.status.take().unwrap_or(200) as u16,
            headers: std::mem::take(&mut h.headers),
            body: std::mem::take(&mut h.output),
        }))
    }
}

fn find(table: &[(String, i32)], key: &str) -> Result<i32, Error> {
    table
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, hid)| *hid)
        .ok_or_else(|| Error::new(Code::NotFound, format!("{} is not registered", key)))
}

fn run(hid: i32, http: bool, keys: Vec<(&str, String)>, input: &[u8]) -> Result<(), Error> {
    native::with(|h| {
        h.http = http;
        h.ctx = keys
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into_bytes()))
            .collect();
        h.input = input.to_vec();
        h.output.clear();
        h.status = None;
        h.headers.clear();
        h.error = None;
    });
    if handle(hid, input.len() as i32) != 0 {
        return Err(take_error());
    }
    Ok(())
}

fn take_error() -> Error {
    match native::with(|h| h.error.take()) {
        Some((code, msg)) => Error::new(Code::from_i32(code).unwrap_or(Code::Internal), msg),
        None => Error::new(Code::Internal, "failed without setting an error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Context, HttpRequest, HttpResponse, Registrar};

    fn greet(_: &Context, p: &str) -> Result<String, Error> {
        if p.is_empty() {
            return Err(Error::new(Code::InvalidArgument, "say who to greet"));
        }
        Ok(format!("hello, {}", p))
    }

    fn page(_: &Context, r: &HttpRequest) -> Result<HttpResponse, Error> {
        Ok(HttpResponse::text(format!("{} {}", r.method(), r.path())).with_status(201))
    }

    fn init(r: &mut Registrar) -> Result<(), Error> {
        r.rpc_str("Greet", greet)?;
        r.http("/hello/:who", &["GET"], page)
    }

    #[test]
    fn fake_host_runs_rpcs_and_routes() {
        let host = FakeHost::start(init).unwrap();
        assert_eq!(host.rpc("greet", b"ann").unwrap(), b"hello, ann");
        let e = host.rpc("greet", b"").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (Code::InvalidArgument, "say who to greet")
        );
        assert_eq!(host.rpc("nope", b"").unwrap_err().code, Code::NotFound);
        let r = host.http("GET", "/hello/:who", "/hello/bo", b"").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (201, &b"GET /hello/bo"[..]));
    }
}
