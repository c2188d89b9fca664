//! The echo plugin: the smallest useful Warden plugin, and a probe of the
//! ABI's input, output and context paths.
//!
//! - `echo`: returns the payload bytes unchanged (any bytes, even invalid UTF-8).
//! - `whoami`: returns `{"user_id":...,"username":...}`, with `null` for an
//!   absent value (a server-to-server call has no user).

use warden::json::Json;
use warden::{Context, Error, Registrar};

/// echo returns the payload unchanged.
fn echo(_ctx: &Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(payload.to_vec())
}

/// whoami returns the caller's user ID and username as JSON; it ignores the payload.
fn whoami(ctx: &Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    let v = Json::object([
        ("user_id", ctx.user_id().into()),
        ("username", ctx.username().into()),
    ]);
    Ok(v.to_string().into_bytes())
}

fn init(r: &mut Registrar) -> Result<(), Error> {
    r.rpc("echo", echo)?;
    r.rpc("whoami", whoami)
}

warden::plugin!(init);
