//! Warden SDK for Rust: write Warden RPC plugins as WebAssembly modules.
//!
//! A plugin is a `cdylib` crate built for `wasm32-unknown-unknown`. It
//! registers RPCs and custom HTTP handlers in an init function and exports
//! the ABI entry points with [`plugin!`]:
//!
//! ```no_run
//! use warden::{json::Json, Code, Context, Error, HttpRequest, HttpResponse, Registrar};
//!
//! // A text handler: the payload must be UTF-8 (else INVALID_ARGUMENT).
//! fn hello(ctx: &Context, payload: &str) -> Result<String, Error> {
//!     let req = Json::parse(payload)?; // invalid JSON: INVALID_ARGUMENT
//!     let name = req.get("name").and_then(Json::as_str).ok_or_else(|| {
//!         Error::new(Code::InvalidArgument, "name is required")
//!     })?;
//!     warden::info!("hello from {:?}", ctx.user_id());
//!     Ok(Json::object([("greeting", Json::from(format!("hello, {}", name)))]).to_string())
//! }
//!
//! // A bytes handler: any payload.
//! fn echo(_ctx: &Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
//!     Ok(payload.to_vec())
//! }
//!
//! // An HTTP handler, served at GET /items/:id (ABI 1.1).
//! fn item(_ctx: &Context, req: &HttpRequest) -> Result<HttpResponse, Error> {
//!     let id = req.param("id").unwrap_or_default();
//!     Ok(HttpResponse::text(format!("item {}", id)))
//! }
//!
//! fn init(r: &mut Registrar) -> Result<(), Error> {
//!     r.rpc_str("hello", hello)?;
//!     r.http("/items/:id", &["GET"], item)?;
//!     r.server_only_rpc("echo", echo) // user calls are refused by the host
//! }
//!
//! warden::plugin!(init);
//! ```
//!
//! The layers: [`sys`] is the raw `warden_v1` ABI, one import per host
//! function (see `abi/ABI.md`); the rest is a safe API over it: [`Context`],
//! [`Error`], [`HttpRequest`] and [`HttpResponse`], [`db`], [`http`]
//! (outbound requests under the plugin's grants), [`json`], [`log`]
//! and its macros, [`time_now`] and [`random_bytes`]. On `Err`, the SDK
//! passes the code and message to the host and the call fails; a panic
//! fails it with code 13 and the panic message, and the instance is
//! discarded.

mod codec;
mod context;
pub mod db;
mod error;
mod hostcall;
#[path = "http_client.rs"]
pub mod http;
// Custom HTTP handlers; their types are re-exported here and in `http`.
#[path = "http.rs"]
mod handler;
pub mod json;
pub mod log;
mod plugin;
mod retry;
pub mod sys;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
mod value;

pub use context::Context;
pub use error::{Code, Error};
pub use handler::{HttpHandler, HttpRequest, HttpResponse, APPLICATION_JSON, TEXT_PLAIN};
pub use plugin::{Handler, InitFn, Registrar, StrHandler};

/// Used by the [`plugin!`] macro; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::plugin::{handle, init};
}

/// time_now returns the wall-clock time in nanoseconds since the Unix epoch.
pub fn time_now() -> i64 {
    // SAFETY: time_now takes no arguments.
    unsafe { sys::time_now() }
}

/// random_fill fills `buf` with cryptographically secure random bytes.
///
/// # Panics
///
/// When the host fails, which it does only on a host bug.
pub fn random_fill(buf: &mut [u8]) {
    for chunk in buf.chunks_mut(sys::limit::MAX_RANDOM_BYTES) {
        // SAFETY: chunk is a writable range of chunk.len() bytes.
        let st = unsafe { sys::random_fill(chunk.as_mut_ptr(), chunk.len()) };
        assert!(
            st == sys::status::OK,
            "random_fill: {}",
            hostcall::last_error_or(st)
        );
    }
}

/// random_bytes returns `n` cryptographically secure random bytes.
///
/// # Panics
///
/// As [`random_fill`].
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    random_fill(&mut b);
    b
}
