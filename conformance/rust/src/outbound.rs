//! The `http` RPC of `conformance/SPEC.md`: outbound requests (ABI 1.2)
//! to the runner's server, whose base URL is the env entry CONF_HTTP_BASE.

use std::fmt::Write;

use warden::http::{self, Response};
use warden::{Code, Context, Error};

/// show prints one request's outcome as the spec renders it.
fn show(out: &mut String, name: &str, r: Result<Response, http::Error>) {
    match r {
        Ok(res) => {
            let _ = writeln!(out, "{}.status={}", name, res.status());
            let first = res.header("X-Reply").unwrap_or("<absent>");
            let _ = writeln!(out, "{}.x-reply={}", name, first);
            let n = res.headers().iter().filter(|(k, _)| k == "x-reply").count();
            let _ = writeln!(out, "{}.x-reply.count={}", name, n);
            let _ = writeln!(out, "{}.body={}", name, res.text());
        }
        Err(e) => {
            let st = warden::sys::status::name(e.status()).to_lowercase();
            let _ = writeln!(out, "{}={}", name, st);
            let _ = writeln!(out, "{}.message={}", name, e.message());
        }
    }
}

/// http makes the spec's four requests and prints their outcomes.
pub fn http(ctx: &Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    let base = ctx
        .env_var("CONF_HTTP_BASE")
        .ok_or_else(|| Error::new(Code::FailedPrecondition, "CONF_HTTP_BASE is not set"))?;
    let mut out = String::new();
    show(&mut out, "get", http::get(&format!("{}/get?x=1", base)));
    let headers = [("X-Conformance", "conf"), ("Content-Type", "text/plain")];
    let post = http::request(
        "POST",
        &format!("{}/post", base),
        &headers,
        "héllo".as_bytes(),
        None,
    );
    show(&mut out, "post", post);
    let missing = http::post(&format!("{}/missing", base), "text/plain", b"x");
    show(&mut out, "missing", missing);
    let refused = http::get("http://example.com/conformance?secret=1");
    show(&mut out, "refused", refused);
    Ok(out.into_bytes())
}
