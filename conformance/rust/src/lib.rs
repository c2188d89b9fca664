//! The conformance plugin in Rust: every RPC of `conformance/SPEC.md`,
//! written with the SDK's safe layer wherever it offers the feature, so that
//! `TestConformance` checks the SDK as well as the host. Only `log_level`
//! has no safe wrapper and is called through `warden::sys`.

use std::fmt::Write;

use warden::db::{self, DbError, Engine, TxMode, Value};
use warden::{Code, Context, Error, Registrar};

mod outbound;

/// ctx prints each context key of the spec, in its order.
fn ctx(ctx: &Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = String::new();
    let mut line = |key: &str, v: Option<String>| {
        let v = v.unwrap_or_else(|| "<absent>".to_string());
        let _ = writeln!(out, "{}={}", key, v);
    };
    line("user_id", ctx.user_id());
    line("username", ctx.username());
    line(
        "user_session_exp",
        ctx.session_expiry().map(|n| n.to_string()),
    );
    line("var.tier", ctx.var("tier"));
    line("var.missing", ctx.var("missing"));
    line("header.X-Conformance", ctx.header("X-Conformance"));
    line("query.q", ctx.query("q"));
    line("env.MODE", ctx.env_var("MODE"));
    line("env.missing", ctx.env_var("missing"));
    line("execution_mode", ctx.execution_mode());
    line("node", ctx.node());
    line("rpc_id", ctx.rpc_id());
    line("plugin_name", ctx.plugin_name());
    let present = |some: bool| if some { "<present>" } else { "<absent>" }.to_string();
    line("trace_id", Some(present(ctx.trace_id().is_some())));
    line("client_ip", Some(present(ctx.client_ip().is_some())));
    line("client_port", Some(present(ctx.client_port().is_some())));
    let headers = ctx.headers();
    let n = headers.iter().filter(|(k, _)| k == "X-Conformance").count();
    line("headers.count", Some(n.to_string()));
    line("vars.count", Some(ctx.vars().len().to_string()));
    Ok(out.into_bytes())
}

/// log logs the payload at each level and returns the lowest level written.
fn log(_ctx: &Context, payload: &str) -> Result<String, Error> {
    warden::debug!("debug {}", payload);
    warden::info!("info {}", payload);
    warden::warn!("warn {}", payload);
    warden::error!("error {}", payload);
    // SAFETY: log_level takes no arguments.
    Ok(unsafe { warden::sys::log_level() }.to_string())
}

/// name returns the lowercase ABI name of a failed database call's status.
fn name(e: &DbError) -> String {
    warden::sys::status::name(e.status()).to_lowercase()
}

/// status names the outcome of a database call: "ok" or the status's name.
fn status<T>(r: &Result<T, DbError>) -> String {
    r.as_ref().map_or_else(name, |_| "ok".to_string())
}

/// put appends the line `key=value`.
fn put(out: &mut String, key: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{}={}", key, value);
}

/// hex returns the lowercase hexadecimal of `b`.
fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{:02x}", x);
        s
    })
}

/// cell returns a value as the spec prints it: `null`, or `<type>:<value>`.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Int(n) => format!("int:{}", n),
        Value::Float(x) => format!("float:{:016x}", x.to_bits()),
        Value::Text(s) => format!("text:{}", hex(s.as_bytes())),
        Value::Blob(b) => format!("blob:{}", hex(b)),
    }
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS conf_values \
    (id BIGINT PRIMARY KEY, i BIGINT, f DOUBLE PRECISION, t TEXT, b BLOB)";
const INSERT: &str = "INSERT INTO conf_values (id, i, f, t, b) VALUES ($1, $2, $3, $4, $5)";

/// row returns the parameters of INSERT for `id`: `v` in the column of its
/// type, NULL in the others.
fn row(id: i64, v: Value) -> Vec<Value> {
    let column = match v {
        Value::Null => 0,
        Value::Int(_) => 1,
        Value::Float(_) => 2,
        Value::Text(_) => 3,
        Value::Blob(_) => 4,
    };
    let mut args = vec![
        Value::Int(id),
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
    ];
    if column > 0 {
        args[column] = v;
    }
    args
}

/// values returns the values of step 2, for ids 1, 2, ...
fn values() -> Vec<Value> {
    vec![
        Value::Null,
        Value::Int(i64::MIN),
        Value::Int(i64::MAX),
        Value::Int(0),
        Value::Float(0.5),
        Value::Float(f64::INFINITY),
        Value::Float(f64::NEG_INFINITY),
        Value::Float(f64::NAN),
        Value::Text(String::new()),
        Value::Text("héllo, 世界".to_string()),
        Value::Blob(Vec::new()),
        Value::Blob(vec![0x00, 0xff, 0x10]),
    ]
}

/// db runs the spec's seven database steps and prints one line per step.
fn db(_ctx: &Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = String::new();
    put(&mut out, "create", status(&db::exec(CREATE, &[])));
    let insert = db::transaction(true, |tx| {
        for (id, v) in (1i64..).zip(values()) {
            tx.exec(INSERT, &row(id, v))?;
        }
        Ok::<(), DbError>(())
    });
    put(&mut out, "insert", status(&insert));
    select_all(&mut out);
    tx_rules(&mut out);
    let engine = match db::engine() {
        Engine::None => "none".to_string(),
        Engine::Sqlite => "sqlite".to_string(),
        Engine::Postgres => "postgresql".to_string(),
        Engine::Other(n) => n.to_string(),
    };
    put(&mut out, "engine", engine);
    match db::exec("DELETE FROM conf_values", &[]) {
        Ok(n) => put(&mut out, "deleted", n),
        Err(e) => put(&mut out, "deleted", name(&e)),
    }
    Ok(out.into_bytes())
}

/// select_all is step 3: the columns, then one line per row.
fn select_all(out: &mut String) {
    let rows = match db::query("SELECT id, i, f, t, b FROM conf_values ORDER BY id", &[]) {
        Ok(rows) => rows,
        Err(e) => return put(out, "select", name(&e)),
    };
    put(out, "columns", rows.columns.join(","));
    for r in rows.iter() {
        let id = r
            .get_i64(0)
            .map_or_else(|| "?".to_string(), |n| n.to_string());
        let _ = write!(out, "{}", id);
        for c in 1..5 {
            let v = r.get(c).map_or_else(|| "?".to_string(), cell);
            let _ = write!(out, "|{}", v);
        }
        out.push('\n');
    }
}

/// tx_rules is steps 4 and 5: a failed transaction, then a read-only one.
fn tx_rules(out: &mut String) {
    put(out, "begin", status(&db::begin(TxMode::ReadWrite)));
    let bad = db::exec("INSERT INTO conf_missing_table VALUES (1)", &[]);
    put(out, "bad", status(&bad));
    let after = db::exec(INSERT, &row(100, Value::Null));
    put(out, "after_bad", status(&after));
    put(out, "commit_failed", status(&db::commit()));
    put(out, "rollback", status(&db::rollback()));
    match db::query("SELECT COUNT(*) FROM conf_values WHERE id = 100", &[]) {
        Ok(rows) => match rows.first().and_then(|r| r.get_i64(0)) {
            Some(n) => put(out, "count_100", n),
            None => put(out, "count_100", "?"),
        },
        Err(e) => put(out, "count_100", name(&e)),
    }

    put(out, "begin_read", status(&db::begin(TxMode::ReadOnly)));
    let write = db::exec(INSERT, &row(101, Value::Null));
    put(out, "write_in_read", status(&write));
    put(out, "rollback_read", status(&db::rollback()));
}

/// error fails with the code in the payload and the message "error N".
/// Error takes a Code, which exists only for 1..16; any other number fails
/// with INTERNAL, which is what the host makes of it.
fn error(_ctx: &Context, payload: &str) -> Result<String, Error> {
    let n: i32 = payload
        .parse()
        .map_err(|_| Error::new(Code::InvalidArgument, "payload must be a number"))?;
    let code = Code::from_i32(n).unwrap_or(Code::Internal);
    Err(Error::new(code, format!("error {}", n)))
}

/// panic panics; the SDK reports the message and its location to the host.
fn panic(_ctx: &Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    panic!("conformance panic")
}

/// echo returns the payload unchanged.
fn echo(_ctx: &Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(payload.to_vec())
}

/// text returns "<code points>:<payload>". The SDK refuses a payload that
/// is not UTF-8 with INVALID_ARGUMENT and "payload is not valid UTF-8".
fn text(_ctx: &Context, payload: &str) -> Result<String, Error> {
    Ok(format!("{}:{}", payload.chars().count(), payload))
}

/// whoami says whether the call has a user.
fn whoami(ctx: &Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    let who = if ctx.user_id().is_some() {
        "user"
    } else {
        "server"
    };
    Ok(who.as_bytes().to_vec())
}

fn init(r: &mut Registrar) -> Result<(), Error> {
    r.rpc("ctx", ctx)?;
    r.rpc_str("log", log)?;
    r.server_only_rpc("db", db)?;
    r.rpc_str("error", error)?;
    r.rpc("panic", panic)?;
    r.rpc("echo", echo)?;
    r.rpc_str("text", text)?;
    r.rpc("http", outbound::http)?;
    r.rpc("whoami", whoami)
}

warden::plugin!(init);
