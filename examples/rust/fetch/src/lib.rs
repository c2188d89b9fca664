//! The fetch plugin: outbound HTTP (ABI 1.2) from an RPC, to the URLs its
//! manifest `fetch.toml` grants and nowhere else.
//!
//! - `fetch`: `{"url": "...", "method": "GET", "headers": {"Name": "value"},
//!   "body": "..."}` (only `url` is required) makes the request and returns
//!   `{"status": N, "headers": {"name": "value", ...}, "body": "..."}`.
//!   Header names are lower-case; a repeated header's values are joined
//!   with ", "; a body that is not UTF-8 is returned with U+FFFD in place
//!   of the bad bytes. A 4xx or 5xx answer is a result like any other.
//!
//! A URL the grants refuse fails with PERMISSION_DENIED (HTTP 403), no
//! answer (refused connection, DNS, timeout) with UNAVAILABLE (503), both
//! with the host's message.

use warden::http;
use warden::json::Json;
use warden::{Code, Context, Error, Registrar};

/// field returns the string at `key`, `default` when absent.
fn field<'a>(req: &'a Json, key: &str, default: &'a str) -> Result<&'a str, Error> {
    match req.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_str()
            .ok_or_else(|| Error::new(Code::InvalidArgument, format!("{} must be a string", key))),
    }
}

/// headers returns the request's `headers` object as pairs.
fn headers(req: &Json) -> Result<Vec<(String, String)>, Error> {
    let bad = || {
        Error::new(
            Code::InvalidArgument,
            "headers must be an object of strings",
        )
    };
    let obj = match req.get("headers") {
        None => return Ok(Vec::new()),
        Some(h) => h.as_object().ok_or_else(bad)?,
    };
    obj.iter()
        .map(|(k, v)| Ok((k.clone(), v.as_str().ok_or_else(bad)?.to_string())))
        .collect()
}

/// fetch makes the request the payload describes and returns the answer.
fn fetch(_ctx: &Context, payload: &str) -> Result<String, Error> {
    let req = Json::parse(payload)?;
    let url = field(&req, "url", "")?;
    if url.is_empty() {
        return Err(Error::new(Code::InvalidArgument, "url is required"));
    }
    let method = field(&req, "method", "GET")?;
    let body = field(&req, "body", "")?;
    let res = http::request(method, url, &headers(&req)?, body.as_bytes(), None)?;
    let mut joined: Vec<(String, String)> = Vec::new();
    for (k, v) in res.headers() {
        match joined.iter_mut().find(|(name, _)| name == k) {
            Some((_, all)) => {
                all.push_str(", ");
                all.push_str(v);
            }
            None => joined.push((k.clone(), v.clone())),
        }
    }
    let out = Json::object([
        ("status", Json::from(i64::from(res.status()))),
        (
            "headers",
            Json::object(joined.into_iter().map(|(k, v)| (k, Json::from(v)))),
        ),
        ("body", Json::from(res.text())),
    ]);
    Ok(out.to_string())
}

fn init(r: &mut Registrar) -> Result<(), Error> {
    r.rpc_str("fetch", fetch)
}

warden::plugin!(init);
