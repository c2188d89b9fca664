//! The plugin's entry points: the handler table that `warden_init` fills and
//! `warden_handle` dispatches on, and the [`plugin!`](crate::plugin) macro
//! that exports them. RPCs and HTTP handlers share the table: each
//! registration is one entry, and its index is the handler id.

use std::cell::RefCell;

use crate::context::Context;
use crate::error::{Code, Error};
use crate::hostcall::last_error_or;
use crate::handler::{self, HttpHandler};
use crate::sys::{self, flag, status};

/// Handler serves an RPC whose payload is any bytes: it gets the context
/// and the payload, and returns the output bytes or an [`Error`].
pub type Handler = fn(&Context, &[u8]) -> Result<Vec<u8>, Error>;

/// StrHandler serves an RPC whose payload is text, such as JSON. A payload
/// that is not valid UTF-8 fails with INVALID_ARGUMENT before it runs.
pub type StrHandler = fn(&Context, &str) -> Result<String, Error>;

/// InitFn is the plugin's init: it registers the RPCs and HTTP handlers.
pub type InitFn = fn(&mut Registrar) -> Result<(), Error>;

#[derive(Clone, Copy)]
enum Entry {
    Bytes(Handler),
    Str(StrHandler),
    /// The runner is `handler::serve`, reached only through the table, so that
    /// a plugin without HTTP handlers does not link the HTTP code.
    Http(HttpHandler, HttpRunner),
}

type HttpRunner = fn(HttpHandler, &Context, Vec<u8>) -> Result<(), Error>;

// The handler id that rpc_register and http_register get is an index into
// this table. A wasm32 instance has one thread, so this is one table per
// instance.
thread_local! {
    static HANDLERS: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// Registrar registers RPCs and HTTP handlers during init (Nakama's `Initializer`).
#[derive(Debug)]
pub struct Registrar {
    ctx: Context,
}

impl Registrar {
    /// context returns the init context: `env`, `node`, `version`,
    /// `plugin_name` and `plugin_version` are available.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// rpc registers `h` as RPC `id` (1..128 bytes, case-insensitive).
    ///
    /// # Errors
    ///
    /// ALREADY_EXISTS when `id` is registered already; INVALID_ARGUMENT for
    /// a bad id; RESOURCE_EXHAUSTED past 1024 RPCs.
    pub fn rpc(&mut self, id: &str, h: Handler) -> Result<(), Error> {
        register_rpc(id, Entry::Bytes(h), 0)
    }

    /// rpc_str registers a text handler `h` as RPC `id`; see [`Registrar::rpc`].
    pub fn rpc_str(&mut self, id: &str, h: StrHandler) -> Result<(), Error> {
        register_rpc(id, Entry::Str(h), 0)
    }

    /// server_only_rpc registers `h` as RPC `id` with the SERVER_ONLY flag:
    /// the host refuses a call carrying a user ID with PERMISSION_DENIED,
    /// before `h` runs. See [`Registrar::rpc`].
    pub fn server_only_rpc(&mut self, id: &str, h: Handler) -> Result<(), Error> {
        register_rpc(id, Entry::Bytes(h), flag::SERVER_ONLY)
    }

    /// server_only_rpc_str is [`Registrar::server_only_rpc`] for a text handler.
    pub fn server_only_rpc_str(&mut self, id: &str, h: StrHandler) -> Result<(), Error> {
        register_rpc(id, Entry::Str(h), flag::SERVER_ONLY)
    }

    /// http registers `h` as a custom HTTP handler for path `pattern`, in
    /// httprouter syntax (`/items/:id`, `/files/*rest`), and `methods`
    /// such as `&["GET", "POST"]`; empty means GET, HEAD, POST, PUT,
    /// PATCH and DELETE. The handler sees every request header, including
    /// `Authorization`, and no user.
    ///
    /// # Errors
    ///
    /// ALREADY_EXISTS when this plugin registered the pattern for one of
    /// the methods already; INVALID_ARGUMENT for a pattern that does not
    /// start with `/` or an unknown method; RESOURCE_EXHAUSTED past 256
    /// routes. A pattern that conflicts with the server's own routes or
    /// another plugin's refuses the plugin at load.
    pub fn http(&mut self, pattern: &str, methods: &[&str], h: HttpHandler) -> Result<(), Error> {
        register_http(pattern, methods, h, 0)
    }

    /// http_with_session is [`Registrar::http`] with the SESSION_REQUIRED
    /// flag: the host answers 401 unless the request carries a valid Bearer
    /// session, and `h` gets the user in its context, without the
    /// `Authorization` header.
    pub fn http_with_session(
        &mut self,
        pattern: &str,
        methods: &[&str],
        h: HttpHandler,
    ) -> Result<(), Error> {
        register_http(pattern, methods, h, flag::SESSION_REQUIRED)
    }
}

#[cfg(test)]
impl Registrar {
    /// Returns a Registrar on an empty handler table, as init does.
    pub(crate) fn for_tests() -> Registrar {
        HANDLERS.with(|t| t.borrow_mut().clear());
        Registrar {
            ctx: Context::new(),
        }
    }
}

fn register_rpc(id: &str, e: Entry, flags: i32) -> Result<(), Error> {
    register(
        e,
        // SAFETY: id is borrowed for the duration of the call.
        |hid| unsafe { sys::rpc_register(id.as_ptr(), id.len(), hid, flags) },
        || format!("rpc {:?}", id),
    )
}

fn register_http(pattern: &str, methods: &[&str], h: HttpHandler, flags: i32) -> Result<(), Error> {
    let list = methods.join(",");
    register(
        Entry::Http(h, handler::serve),
        // SAFETY: pattern and list are borrowed for the duration of the call.
        |hid| unsafe {
            sys::http_register(
                pattern.as_ptr(),
                pattern.len(),
                list.as_ptr(),
                list.len(),
                hid,
                flags,
            )
        },
        || match list.as_str() {
            "" => format!("http {:?}", pattern),
            _ => format!("http {} {:?}", list, pattern),
        },
    )
}

/// Adds `e` to the table and calls `host(handler_id)`; when that fails,
/// removes it again and returns an error about `what()`.
fn register(
    e: Entry,
    host: impl FnOnce(i32) -> i32,
    what: impl FnOnce() -> String,
) -> Result<(), Error> {
    let handler_id = HANDLERS.with(|t| {
        let mut t = t.borrow_mut();
        t.push(e);
        t.len() - 1
    });
    let st = host(handler_id as i32);
    if st == status::OK {
        return Ok(());
    }
    HANDLERS.with(|t| t.borrow_mut().pop());
    let code = match st {
        status::ALREADY_EXISTS => Code::AlreadyExists,
        status::BAD_ARGUMENT => Code::InvalidArgument,
        status::LIMIT_EXCEEDED => Code::ResourceExhausted,
        _ => Code::Internal,
    };
    let msg = format!("register {}: {}", what(), last_error_or(st));
    Err(Error::new(code, msg))
}

/// Sets the call's error and returns the failure result of the exports.
fn fail(e: &Error) -> i32 {
    // SAFETY: the message is borrowed for the duration of the call.
    unsafe { sys::error_set(e.code as i32, e.message.as_ptr(), e.message.len()) };
    1
}

/// Runs the plugin's init; `warden_init` calls it. Exported through [`plugin!`](crate::plugin).
pub fn init(f: InitFn) -> i32 {
    install_panic_hook();
    // A second init on the same instance starts over, so ids stay dense.
    HANDLERS.with(|t| t.borrow_mut().clear());
    match f(&mut Registrar {
        ctx: Context::new(),
    }) {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

/// Runs one RPC or HTTP handler; `warden_handle` calls it. Exported through [`plugin!`](crate::plugin).
pub fn handle(handler_id: i32, input_len: i32) -> i32 {
    let entry = HANDLERS.with(|t| {
        usize::try_from(handler_id)
            .ok()
            .and_then(|i| t.borrow().get(i).copied())
    });
    let entry = match entry {
        Some(e) => e,
        None => {
            return fail(&Error::new(
                Code::Internal,
                format!("unknown handler id {}", handler_id),
            ))
        }
    };
    let input = match read_input(input_len) {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    let ctx = Context::new();
    let out = match entry {
        Entry::Bytes(h) => h(&ctx, &input),
        Entry::Str(h) => match std::str::from_utf8(&input) {
            Ok(s) => h(&ctx, s).map(String::into_bytes),
            Err(e) => Err(e.into()),
        },
        // An HTTP handler sends its own status, headers and body.
        Entry::Http(h, run) => run(h, &ctx, input).map(|()| Vec::new()),
    };
    match out.and_then(|b| write_output(&b)) {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

fn read_input(input_len: i32) -> Result<Vec<u8>, Error> {
    let len = usize::try_from(input_len)
        .map_err(|_| Error::new(Code::Internal, "negative input length"))?;
    let mut buf = vec![0u8; len];
    let mut off = 0;
    while off < len {
        // SAFETY: buf[off..] is a writable range of len - off bytes.
        let n = unsafe { sys::input_read(off as i32, buf[off..].as_mut_ptr(), len - off) };
        if n < 0 {
            return Err(Error::new(
                Code::Internal,
                format!("read input: {}", last_error_or(n)),
            ));
        }
        if n == 0 {
            break;
        }
        off += n as usize;
    }
    buf.truncate(off);
    Ok(buf)
}

pub(crate) fn write_output(b: &[u8]) -> Result<(), Error> {
    if b.is_empty() {
        return Ok(());
    }
    // SAFETY: b is borrowed for the duration of the call.
    let st = unsafe { sys::output_write(b.as_ptr(), b.len()) };
    match st {
        status::OK => Ok(()),
        status::LIMIT_EXCEEDED => Err(Error::new(
            Code::ResourceExhausted,
            format!("write output: {}", last_error_or(st)),
        )),
        _ => Err(Error::new(
            Code::Internal,
            format!("write output: {}", last_error_or(st)),
        )),
    }
}

/// Routes Rust panics to the host's `panic`, with the message and its
/// file:line; the default abort then traps. Only on wasm32: natively the
/// test harness keeps its own hook.
fn install_panic_hook() {
    #[cfg(target_arch = "wasm32")]
    std::panic::set_hook(Box::new(|info| {
        let p = info.payload();
        let msg = match (p.downcast_ref::<&str>(), p.downcast_ref::<String>()) {
            (Some(s), _) => *s,
            (_, Some(s)) => s.as_str(),
            _ => "Box<dyn Any>",
        };
        let text = match info.location() {
            Some(l) => format!("{} at {}:{}", msg, l.file(), l.line()),
            None => msg.to_string(),
        };
        // SAFETY: text is borrowed for the duration of the call.
        unsafe { sys::panic(text.as_ptr(), text.len()) };
    }));
}

/// plugin! exports the Warden ABI entry points from a plugin crate (built
/// as a `cdylib`): `warden_abi_v1`, `warden_init`, which runs `$init` to
/// register RPCs and HTTP handlers, and `warden_handle`, which runs the
/// registered handler.
///
/// ```no_run
/// fn echo(_ctx: &warden::Context, payload: &[u8]) -> Result<Vec<u8>, warden::Error> {
///     Ok(payload.to_vec())
/// }
///
/// fn init(r: &mut warden::Registrar) -> Result<(), warden::Error> {
///     r.rpc("echo", echo)
/// }
///
/// warden::plugin!(init);
/// ```
#[macro_export]
macro_rules! plugin {
    ($init:expr) => {
        /// The Warden ABI 1.x marker. Never called.
        #[no_mangle]
        pub extern "C" fn warden_abi_v1() {}

        /// Registers this plugin's RPCs and HTTP handlers. 0 is success.
        #[no_mangle]
        pub extern "C" fn warden_init() -> i32 {
            $crate::__private::init($init)
        }

        /// Runs handler `handler_id` on `input_len` bytes of input. 0 is success.
        #[no_mangle]
        pub extern "C" fn warden_handle(handler_id: i32, input_len: i32) -> i32 {
            $crate::__private::handle(handler_id, input_len)
        }
    };
}

#[cfg(test)]
#[path = "plugin_tests.rs"]
mod tests;
