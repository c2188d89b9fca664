//! Raw host imports and constants of the Warden plugin ABI 1.1.
//!
//! This module is a 1:1 transcription of `abi/ABI.md` sections 1.2 and 3-5:
//! one `extern` declaration per host function, with the parameter names of
//! ABI.md, and the ABI's numbers as constants. Everything here is `unsafe`
//! and unchecked; the rest of the crate wraps it in a safe API. A contract
//! test in the Go repository parses the import block line by line, so keep
//! its shape: one function per line, types from `*const u8`, `*mut u8`,
//! `usize`, `i32`, `u32` (wasm `i32`) and `i64`, `u64` (wasm `i64`).
//!
//! Memory ownership (ABI.md 1.1): every `(ptr, len)` is borrowed by the host
//! only for the duration of the call, and the host writes only inside a
//! `(dst_ptr, dst_cap)` range given in the same call. Functions returning
//! `i64` return a length or count `>= 0`, or on failure the status value
//! itself, which is negative (for example `-1` for NOT_FOUND).
//!
//! Outside `wasm32` (native `cargo test`), the same functions come from a
//! fake in-process host, so the safe layer can be unit-tested.

/// The import module name; its major version matches [`ABI_VERSION`].
pub const MODULE: &str = "warden_v1";

/// The ABI version this crate implements, as "major.minor".
pub const ABI_VERSION: &str = "1.2";

// One line per function: abi/contract_test.go parses this block.
#[cfg(target_arch = "wasm32")]
#[rustfmt::skip]
#[link(wasm_import_module = "warden_v1")]
extern "C" {
    pub fn rpc_register(id_ptr: *const u8, id_len: usize, handler_id: i32, flags: i32) -> i32;
    pub fn input_read(offset: i32, dst_ptr: *mut u8, dst_len: usize) -> i32;
    pub fn output_write(src_ptr: *const u8, src_len: usize) -> i32;
    pub fn error_set(code: i32, msg_ptr: *const u8, msg_len: usize) -> i32;
    pub fn ctx_get(key_ptr: *const u8, key_len: usize, dst_ptr: *mut u8, dst_cap: usize) -> i64;
    pub fn log(level: i32, msg_ptr: *const u8, msg_len: usize) -> i32;
    pub fn log_level() -> i32;
    pub fn db_engine() -> i32;
    pub fn db_exec(sql_ptr: *const u8, sql_len: usize, args_ptr: *const u8, args_len: usize) -> i64;
    pub fn db_query(sql_ptr: *const u8, sql_len: usize, args_ptr: *const u8, args_len: usize) -> i64;
    pub fn db_begin(mode: i32) -> i32;
    pub fn db_commit() -> i32;
    pub fn db_rollback() -> i32;
    pub fn result_read(dst_ptr: *mut u8, dst_cap: usize) -> i64;
    pub fn last_error(dst_ptr: *mut u8, dst_cap: usize) -> i64;
    pub fn panic(msg_ptr: *const u8, msg_len: usize);
    pub fn time_now() -> i64;
    pub fn random_fill(dst_ptr: *mut u8, dst_len: usize) -> i32;
    pub fn http_register(pattern_ptr: *const u8, pattern_len: usize, methods_ptr: *const u8, methods_len: usize, handler_id: i32, flags: i32) -> i32;
    pub fn output_set_status(status: i32) -> i32;
    pub fn output_add_header(name_ptr: *const u8, name_len: usize, value_ptr: *const u8, value_len: usize) -> i32;
    pub fn http_request(req_ptr: *const u8, req_len: usize) -> i64;
}

#[cfg(not(target_arch = "wasm32"))]
#[path = "sys_native.rs"]
pub(crate) mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::{
    ctx_get, db_begin, db_commit, db_engine, db_exec, db_query, db_rollback, error_set,
    http_register, http_request, input_read, last_error, log, log_level, output_add_header,
    output_set_status, output_write, panic, random_fill, result_read, rpc_register, time_now,
};

/// Status results of host functions (ABI.md 1.2). The values are negative
/// (OK is 0). `i32` results are a status; `i64` results are a length or
/// count `>= 0`, or one of these (negative) values on failure.
pub mod status {
    pub const OK: i32 = 0;
    pub const NOT_FOUND: i32 = -1;
    pub const BAD_ARGUMENT: i32 = -2;
    pub const INVALID_MEMORY: i32 = -3;
    pub const NOT_ALLOWED: i32 = -4;
    pub const ALREADY_EXISTS: i32 = -5;
    pub const LIMIT_EXCEEDED: i32 = -6;
    pub const DB_ERROR: i32 = -7;
    pub const UNIMPLEMENTED: i32 = -8;
    pub const INTERNAL: i32 = -9;
    pub const CANCELLED: i32 = -10;
    pub const DB_BUSY: i32 = -11;
    pub const TX_FAILED: i32 = -12;
    pub const TX_STATE: i32 = -13;
    pub const DB_READ_ONLY: i32 = -14;
    pub const BUFFER_TOO_SMALL: i32 = -15;
    /// Added in 1.2: the plugin's grants do not allow the URL of an
    /// `http_request`, the address its name resolved to, or a redirect.
    pub const NOT_GRANTED: i32 = -16;
    /// Added in 1.2: an `http_request` got no response (DNS, connection,
    /// TLS, protocol, too many redirects, its own timeout).
    pub const HTTP_FAILED: i32 = -17;

    /// name returns the ABI.md name of status `s`, or "UNKNOWN".
    pub fn name(s: i32) -> &'static str {
        const NAMES: [&str; 18] = [
            "OK",
            "NOT_FOUND",
            "BAD_ARGUMENT",
            "INVALID_MEMORY",
            "NOT_ALLOWED",
            "ALREADY_EXISTS",
            "LIMIT_EXCEEDED",
            "DB_ERROR",
            "UNIMPLEMENTED",
            "INTERNAL",
            "CANCELLED",
            "DB_BUSY",
            "TX_FAILED",
            "TX_STATE",
            "DB_READ_ONLY",
            "BUFFER_TOO_SMALL",
            "NOT_GRANTED",
            "HTTP_FAILED",
        ];
        match usize::try_from(-(s as i64)) {
            Ok(i) if i < NAMES.len() => NAMES[i],
            _ => "UNKNOWN",
        }
    }
}

/// Bits of the `flags` of `rpc_register` and `http_register` (ABI.md 3.1).
pub mod flag {
    /// The host refuses a call that carries a user ID with code 7.
    pub const SERVER_ONLY: i32 = 1;
    /// HTTP handlers only (1.1): the host answers 401 unless the request
    /// carries a valid Bearer session.
    pub const SESSION_REQUIRED: i32 = 2;
}

/// Levels of `log`, and `log_level`'s result (ABI.md 3.4).
pub mod level {
    pub const DEBUG: i32 = 0;
    pub const INFO: i32 = 1;
    pub const WARN: i32 = 2;
    pub const ERROR: i32 = 3;
    /// Returned by `log_level` when logging is off.
    pub const DISABLED: i32 = 7;
}

/// Results of `db_engine` (ABI.md 3.5).
pub mod engine {
    pub const NONE: i32 = 0;
    pub const SQLITE: i32 = 1;
    /// Reserved.
    pub const POSTGRESQL: i32 = 2;
}

/// Modes of `db_begin` (ABI.md 3.5).
pub mod tx {
    pub const READ_ONLY: i32 = 0;
    pub const READ_WRITE: i32 = 1;
}

/// Value tags of the value encoding (ABI.md 4.1).
pub mod tag {
    pub const NULL: u8 = 0;
    pub const INT64: u8 = 1;
    pub const FLOAT64: u8 = 2;
    pub const TEXT: u8 = 3;
    pub const BLOB: u8 = 4;
}

/// Keys of `ctx_get` (ABI.md 3.3). Keys ending in a dot are prefixes for one
/// entry of a map, for example `"header.Content-Type"`.
pub mod ctx {
    pub const USER_ID: &str = "user_id";
    pub const USERNAME: &str = "username";
    pub const USER_SESSION_EXP: &str = "user_session_exp";
    pub const VARS: &str = "vars";
    pub const VAR_PREFIX: &str = "var.";
    pub const HEADERS: &str = "headers";
    pub const HEADER_PREFIX: &str = "header.";
    pub const QUERY_PARAMS: &str = "query_params";
    pub const QUERY_PREFIX: &str = "query.";
    pub const ENV: &str = "env";
    pub const ENV_PREFIX: &str = "env.";
    pub const EXECUTION_MODE: &str = "execution_mode";
    pub const NODE: &str = "node";
    pub const VERSION: &str = "version";
    pub const CLIENT_IP: &str = "client_ip";
    pub const CLIENT_PORT: &str = "client_port";
    pub const TRACE_ID: &str = "trace_id";
    pub const RPC_ID: &str = "rpc_id";
    pub const PLUGIN_NAME: &str = "plugin_name";
    pub const PLUGIN_VERSION: &str = "plugin_version";
    /// Added in 1.1, for HTTP handlers: the request method.
    pub const HTTP_METHOD: &str = "http_method";
    /// The request path, as received (decoded).
    pub const HTTP_PATH: &str = "http_path";
    /// The pattern the handler registered.
    pub const HTTP_ROUTE: &str = "http_route";
    /// The value of a `:name` or `*name` route parameter.
    pub const ROUTE_PREFIX: &str = "route.";
    /// The `execution_mode` of an RPC call.
    pub const MODE_RPC: &str = "rpc";
    /// The `execution_mode` of a custom HTTP handler's call (1.1).
    pub const MODE_HTTP: &str = "http";
}

/// Limits the host enforces (abi.go). Some are configurable defaults.
pub mod limit {
    pub const MAX_ID_BYTES: usize = 128;
    pub const MAX_RPCS_PER_PLUGIN: usize = 1024;
    /// Bounds http_register calls per instance (1.1).
    pub const MAX_ROUTES_PER_PLUGIN: usize = 256;
    /// Bounds an HTTP route pattern (1.1).
    pub const MAX_PATTERN_BYTES: usize = 1024;
    /// Bounds one header's name plus value in output_add_header (1.1).
    pub const MAX_HEADER_BYTES: usize = 8 << 10;
    /// Bounds output_add_header calls per call (1.1).
    pub const MAX_RESPONSE_HEADERS: usize = 64;
    pub const MAX_LOG_BYTES: usize = 8 << 10;
    pub const MAX_ERROR_BYTES: usize = 8 << 10;
    pub const MAX_SQL_BYTES: usize = 64 << 10;
    pub const MAX_ARGS_BYTES: usize = 16 << 20;
    pub const MAX_RANDOM_BYTES: usize = 64 << 10;
    /// The default output limit; the server's configuration may change it.
    pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 4 << 20;
}
