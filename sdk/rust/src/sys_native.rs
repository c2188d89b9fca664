//! A fake, in-process host with the signatures of the `warden_v1` imports,
//! used outside `wasm32` so that `cargo test` runs natively.
//!
//! State is per thread (tests run on several threads). Tests set it up with
//! [`with`] and inspect it afterwards. Database calls answer from
//! `Fake::db_result` and `Fake::db_affected` and record the SQL they got.
//! Native builds of plugins link against this too; there, every call behaves
//! as on a host with an empty context and no database.

// Each function's safety contract is its import's: every (ptr, len) must be
// a valid range, as ABI.md 1.1 requires of the guest.
#![allow(clippy::missing_safety_doc)]

use std::cell::RefCell;

use super::status;

/// The fake host's per-thread state.
#[derive(Default)]
pub(crate) struct Fake {
    pub input: Vec<u8>,
    pub output: Vec<u8>,
    pub error: Option<(i32, String)>,
    pub ctx: Vec<(String, Vec<u8>)>,
    pub logs: Vec<(i32, String)>,
    /// What log_level returns.
    pub level: i32,
    pub registered: Vec<(String, i32, i32)>,
    pub last_error: Option<String>,
    pub panic: Option<String>,
    /// Encoded rows that db_query puts in the result slot; None fails with DB_ERROR.
    pub db_result: Option<Vec<u8>>,
    pub db_affected: i64,
    /// Each (sql, encoded args) passed to db_exec or db_query, and "BEGIN n"/"COMMIT"/"ROLLBACK".
    pub db_log: Vec<(String, Vec<u8>)>,
    /// Each (pattern, methods, handler id, flags) passed to http_register.
    pub routes: Vec<(String, String, i32, i32)>,
    /// Whether the call is a custom HTTP handler's: output_set_status and
    /// output_add_header fail with NOT_ALLOWED otherwise, as on the host.
    pub http: bool,
    /// What output_set_status set; None means the default, 200.
    pub status: Option<i32>,
    /// The headers output_add_header added, in order.
    pub headers: Vec<(String, String)>,
    /// The next `commit_busy` db_commit calls fail with DB_BUSY.
    pub commit_busy: u32,
    /// When not OK, the status of every db_exec.
    pub exec_status: i32,
    /// Each sleep of the transaction retries, in nanoseconds (the fake
    /// records them instead of sleeping).
    pub sleeps: Vec<u64>,
    /// Each encoded request passed to http_request (ABI 1.2).
    pub http_requests: Vec<Vec<u8>>,
    /// What http_request answers: Ok(encoded response) goes to the result
    /// slot; Err((status, message)) fails. None is NOT_GRANTED, as on a
    /// host whose manifest grants nothing.
    pub http_answer: Option<Result<Vec<u8>, (i32, String)>>,
    slot: Option<Vec<u8>>,
}

#[cfg(test)]
impl Fake {
    /// slot_is_empty reports whether the result slot was read (or never filled).
    pub fn slot_is_empty(&self) -> bool {
        self.slot.is_none()
    }
}

thread_local! {
    static FAKE: RefCell<Fake> = RefCell::new(Fake::default());
}

/// Runs `f` on this thread's fake host.
pub(crate) fn with<T>(f: impl FnOnce(&mut Fake) -> T) -> T {
    FAKE.with(|c| f(&mut c.borrow_mut()))
}

unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(ptr, len)
    }
}

// Buffer convention: write when it fits, always return the full length.
unsafe fn put(v: &[u8], dst_ptr: *mut u8, dst_cap: usize) -> i64 {
    if v.len() <= dst_cap && !v.is_empty() {
        std::ptr::copy_nonoverlapping(v.as_ptr(), dst_ptr, v.len());
    }
    v.len() as i64
}

fn fail(f: &mut Fake, st: i32, msg: &str) -> i32 {
    f.last_error = Some(msg.to_string());
    st
}

pub unsafe fn rpc_register(id_ptr: *const u8, id_len: usize, handler_id: i32, flags: i32) -> i32 {
    let id = String::from_utf8_lossy(bytes(id_ptr, id_len)).to_lowercase();
    with(|f| {
        if f.registered.iter().any(|r| r.0 == id) {
            return fail(f, status::ALREADY_EXISTS, "rpc id registered already");
        }
        f.registered.push((id, handler_id, flags));
        status::OK
    })
}

pub unsafe fn input_read(offset: i32, dst_ptr: *mut u8, dst_len: usize) -> i32 {
    with(|f| {
        let start = (offset.max(0) as usize).min(f.input.len());
        let n = dst_len.min(f.input.len() - start);
        std::ptr::copy_nonoverlapping(f.input[start..].as_ptr(), dst_ptr, n);
        n as i32
    })
}

pub unsafe fn output_write(src_ptr: *const u8, src_len: usize) -> i32 {
    with(|f| f.output.extend_from_slice(bytes(src_ptr, src_len)));
    status::OK
}

pub unsafe fn error_set(code: i32, msg_ptr: *const u8, msg_len: usize) -> i32 {
    let msg = String::from_utf8_lossy(bytes(msg_ptr, msg_len)).into_owned();
    with(|f| f.error = Some((code, msg)));
    status::OK
}

pub unsafe fn ctx_get(key_ptr: *const u8, key_len: usize, dst_ptr: *mut u8, dst_cap: usize) -> i64 {
    let key = bytes(key_ptr, key_len).to_vec();
    with(
        |f| match f.ctx.iter().find(|(k, _)| k.as_bytes() == key.as_slice()) {
            Some((_, v)) => put(v, dst_ptr, dst_cap),
            None => i64::from(fail(f, status::NOT_FOUND, "no such context value")),
        },
    )
}

pub unsafe fn log(level: i32, msg_ptr: *const u8, msg_len: usize) -> i32 {
    let msg = String::from_utf8_lossy(bytes(msg_ptr, msg_len)).into_owned();
    with(|f| f.logs.push((level, msg)));
    status::OK
}

pub unsafe fn log_level() -> i32 {
    with(|f| f.level)
}

pub unsafe fn db_engine() -> i32 {
    super::engine::NONE
}

/// Copies a statement and its encoded arguments for the fake's log.
unsafe fn statement(
    sql_ptr: *const u8,
    sql_len: usize,
    args_ptr: *const u8,
    args_len: usize,
) -> (String, Vec<u8>) {
    (
        String::from_utf8_lossy(bytes(sql_ptr, sql_len)).into_owned(),
        bytes(args_ptr, args_len).to_vec(),
    )
}

pub unsafe fn db_exec(
    sql_ptr: *const u8,
    sql_len: usize,
    args_ptr: *const u8,
    args_len: usize,
) -> i64 {
    let entry = statement(sql_ptr, sql_len, args_ptr, args_len);
    with(|f| {
        f.db_log.push(entry);
        if f.exec_status != status::OK {
            return i64::from(fail(f, f.exec_status, "fake failure"));
        }
        f.db_affected
    })
}

pub unsafe fn db_query(
    sql_ptr: *const u8,
    sql_len: usize,
    args_ptr: *const u8,
    args_len: usize,
) -> i64 {
    let entry = statement(sql_ptr, sql_len, args_ptr, args_len);
    with(|f| {
        f.db_log.push(entry);
        match f.db_result.clone() {
            Some(r) => {
                let n = r.len() as i64;
                f.slot = Some(r);
                n
            }
            None => i64::from(fail(f, status::DB_ERROR, "no such table: fake")),
        }
    })
}

fn db_mark(s: &str) -> i32 {
    with(|f| f.db_log.push((s.to_string(), Vec::new())));
    status::OK
}

pub unsafe fn db_begin(mode: i32) -> i32 {
    db_mark(&format!("BEGIN {}", mode))
}

pub unsafe fn db_commit() -> i32 {
    db_mark("COMMIT");
    with(|f| {
        if f.commit_busy == 0 {
            return status::OK;
        }
        f.commit_busy -= 1;
        fail(f, status::DB_BUSY, "could not serialize access")
    })
}

pub unsafe fn db_rollback() -> i32 {
    db_mark("ROLLBACK")
}

pub unsafe fn result_read(dst_ptr: *mut u8, dst_cap: usize) -> i64 {
    with(|f| match f.slot.take() {
        Some(v) => {
            let n = put(&v, dst_ptr, dst_cap);
            if n as usize > dst_cap {
                f.slot = Some(v);
            }
            n
        }
        None => i64::from(fail(f, status::NOT_FOUND, "result slot is empty")),
    })
}

pub unsafe fn last_error(dst_ptr: *mut u8, dst_cap: usize) -> i64 {
    with(|f| match &f.last_error {
        Some(m) => put(m.as_bytes(), dst_ptr, dst_cap),
        None => i64::from(status::NOT_FOUND),
    })
}

pub unsafe fn panic(msg_ptr: *const u8, msg_len: usize) {
    let msg = String::from_utf8_lossy(bytes(msg_ptr, msg_len)).into_owned();
    with(|f| f.panic = Some(msg));
}

pub unsafe fn time_now() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    d.map(|d| d.as_nanos() as i64).unwrap_or(0)
}

pub unsafe fn random_fill(dst_ptr: *mut u8, dst_len: usize) -> i32 {
    // Not random: a fixed pattern is enough for tests of the wrapper.
    for i in 0..dst_len {
        *dst_ptr.add(i) = i as u8;
    }
    status::OK
}

/// The methods of a route registered with none (host/route.go).
const DEFAULT_METHODS: &str = "DELETE,GET,HEAD,PATCH,POST,PUT";

pub unsafe fn http_register(
    pattern_ptr: *const u8,
    pattern_len: usize,
    methods_ptr: *const u8,
    methods_len: usize,
    handler_id: i32,
    flags: i32,
) -> i32 {
    let pattern = String::from_utf8_lossy(bytes(pattern_ptr, pattern_len)).into_owned();
    let methods = String::from_utf8_lossy(bytes(methods_ptr, methods_len)).into_owned();
    // Simpler than the host: no trimming or case folding.
    let set = |m: &str| match m {
        "" => DEFAULT_METHODS.split(',').map(String::from).collect(),
        _ => m.split(',').map(String::from).collect::<Vec<_>>(),
    };
    let mine = set(&methods);
    with(|f| {
        if !pattern.starts_with('/') || flags & !super::flag::SESSION_REQUIRED != 0 {
            return fail(f, status::BAD_ARGUMENT, "pattern must start with /");
        }
        let taken = |r: &(String, String, i32, i32)| {
            r.0 == pattern && set(&r.1).iter().any(|m| mine.contains(m))
        };
        if f.routes.iter().any(taken) {
            return fail(f, status::ALREADY_EXISTS, "route is registered already");
        }
        f.routes.push((pattern, methods, handler_id, flags));
        status::OK
    })
}

pub unsafe fn output_set_status(code: i32) -> i32 {
    with(|f| {
        if !f.http {
            return fail(
                f,
                status::NOT_ALLOWED,
                "output_set_status is for HTTP handlers",
            );
        }
        if !(200..=599).contains(&code) {
            return fail(f, status::BAD_ARGUMENT, "status must be 200..599");
        }
        f.status = Some(code);
        status::OK
    })
}

pub unsafe fn output_add_header(
    name_ptr: *const u8,
    name_len: usize,
    value_ptr: *const u8,
    value_len: usize,
) -> i32 {
    let name = String::from_utf8_lossy(bytes(name_ptr, name_len)).into_owned();
    let value = String::from_utf8_lossy(bytes(value_ptr, value_len)).into_owned();
    const MANAGED: [&str; 4] = [
        "connection",
        "content-length",
        "transfer-encoding",
        "warden-plugin",
    ];
    with(|f| {
        if !f.http {
            return fail(
                f,
                status::NOT_ALLOWED,
                "output_add_header is for HTTP handlers",
            );
        }
        if name.is_empty() || MANAGED.contains(&name.to_lowercase().as_str()) {
            let msg = format!("invalid or host-managed header {}", name);
            return fail(f, status::BAD_ARGUMENT, &msg);
        }
        f.headers.push((name, value));
        status::OK
    })
}

pub unsafe fn http_request(req_ptr: *const u8, req_len: usize) -> i64 {
    let req = bytes(req_ptr, req_len).to_vec();
    with(|f| {
        f.http_requests.push(req);
        match f.http_answer.clone() {
            Some(Ok(r)) => {
                let n = r.len() as i64;
                f.slot = Some(r);
                n
            }
            Some(Err((st, msg))) => i64::from(fail(f, st, &msg)),
            None => i64::from(fail(
                f,
                status::NOT_GRANTED,
                "http_request: not allowed by the grants of plugin \"fake\"",
            )),
        }
    })
}
