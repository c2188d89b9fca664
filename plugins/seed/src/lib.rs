//! The seed plugin: Nakama's server-runtime documentation examples for
//! server-to-server RPCs and HTTP handlers, ported to Warden.
//!
//! - `server_rpc`: refuses user calls in plugin code (PERMISSION_DENIED),
//!   as Nakama's `ServerRPC` example; returns `{"ok":true}`.
//! - `server_rpc_flagged`: the same RPC, refused by the host instead: it is
//!   registered server-only and has no guard.
//! - `http_handler_path`: parses the payload as JSON, logs it and returns
//!   `{"message":<payload>}` (Nakama's `HttpHandler`).
//! - `custom_rpc_func_id`: the same, but refuses user calls first
//!   (Nakama's `customFuncRpc`).
//! - `GET /test`: a custom HTTP handler (ABI 1.1) that answers
//!   `You hit the new endpoint!` as text/plain (Nakama's `RegisterHttp`
//!   example).

use warden::json::Json;
use warden::{Code, Context, Error, HttpRequest, HttpResponse, Registrar};

/// The response of the server-to-server RPCs (the examples' `"<JsonResponse>"`).
const OK_RESPONSE: &[u8] = br#"{"ok":true}"#;

/// is_user_call reports whether a user made the call: server-to-server
/// calls never carry a user ID.
fn is_user_call(ctx: &Context) -> bool {
    ctx.user_id().map_or(false, |id| !id.is_empty())
}

/// server_rpc may only be called server to server; it ignores its payload.
fn server_rpc(ctx: &Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    if is_user_call(ctx) {
        warden::error!("rpc was called by a user");
        return Err(Error::new(
            Code::PermissionDenied,
            "rpc is only callable via server to server",
        ));
    }
    // Valid server to server RPC call, continue executing the RPC...
    Ok(OK_RESPONSE.to_vec())
}

/// server_rpc_flagged is server_rpc without the guard: the host refuses
/// user calls because it is registered server-only.
fn server_rpc_flagged(_ctx: &Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(OK_RESPONSE.to_vec())
}

/// http_handler parses the payload as JSON (else INVALID_ARGUMENT) and
/// returns it wrapped: `{"message":<payload>}`.
fn http_handler(_ctx: &Context, payload: &str) -> Result<String, Error> {
    let message = Json::parse(payload)?;
    warden::info!("Message: {}", message);
    Ok(Json::object([("message", message)]).to_string())
}

/// custom_rpc_func refuses user calls, then behaves as http_handler.
fn custom_rpc_func(ctx: &Context, payload: &str) -> Result<String, Error> {
    warden::info!("payload: {:?}", payload);
    if is_user_call(ctx) {
        // Reject non server-to-server call.
        return Err(Error::new(
            Code::PermissionDenied,
            "Cannot invoke this function from user session",
        ));
    }
    http_handler(ctx, payload)
}

/// test_endpoint serves `GET /test`, with no session needed.
fn test_endpoint(_ctx: &Context, _req: &HttpRequest) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::text("You hit the new endpoint!"))
}

fn init(r: &mut Registrar) -> Result<(), Error> {
    r.rpc("server_rpc", server_rpc)?;
    r.server_only_rpc("server_rpc_flagged", server_rpc_flagged)?;
    r.rpc_str("http_handler_path", http_handler)?;
    r.rpc_str("custom_rpc_func_id", custom_rpc_func)?;
    r.http("/test", &["GET"], test_endpoint)
}

warden::plugin!(init);
