//! The kv plugin: a small key-value store and named counters in the shared
//! database, kept per caller (the user ID, or "" for server-to-server calls),
//! in portable SQL (ABI.md section 6), so they survive restarts.
//!
//! - `kv_put`: `{"key":"k","value":"v"}` stores v under k; returns `{}`.
//! - `kv_get`: `{"key":"k"}` returns `{"key":"k","value":"v"}`, or NOT_FOUND.
//! - `counter_incr`: `{"name":"c"}` or `{"name":"c","by":n}` adds n (default
//!   1) to counter c, which starts at 0, and returns `{"name":"c","value":N}`.
//!
//! A payload that is not a JSON object with those fields fails with
//! INVALID_ARGUMENT.

use warden::db;
use warden::json::Json;
use warden::{Code, Context, Error, Registrar};

/// The tables, created at init. Tables are prefixed with the plugin's name.
const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS kv_entries (
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (owner, name)
    )",
    "CREATE TABLE IF NOT EXISTS kv_counters (
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        value BIGINT NOT NULL,
        PRIMARY KEY (owner, name)
    )",
];

const PUT_SQL: &str = "INSERT INTO kv_entries (owner, name, value, updated_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (owner, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";

const GET_SQL: &str = "SELECT value FROM kv_entries WHERE owner = $1 AND name = $2";

const COUNTER_SQL: &str = "SELECT value FROM kv_counters WHERE owner = $1 AND name = $2";

const SET_COUNTER_SQL: &str = "INSERT INTO kv_counters (owner, name, value) VALUES ($1, $2, $3)
    ON CONFLICT (owner, name) DO UPDATE SET value = excluded.value
    RETURNING value";

/// MAX_NAME_BYTES bounds keys and counter names.
const MAX_NAME_BYTES: usize = 256;

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Code::InvalidArgument, msg)
}

/// owner returns whose data a call reads and writes.
fn owner(ctx: &Context) -> String {
    ctx.user_id().unwrap_or_default()
}

/// request parses a payload that must be a JSON object.
fn request(payload: &str) -> Result<Json, Error> {
    let req = Json::parse(payload)?;
    if req.as_object().is_none() {
        return Err(invalid("payload must be a JSON object"));
    }
    Ok(req)
}

/// string_field returns the string `field` of `req`.
fn string_field<'a>(req: &'a Json, field: &str) -> Result<&'a str, Error> {
    req.get(field)
        .and_then(Json::as_str)
        .ok_or_else(|| invalid(format!("{:?} must be a string", field)))
}

/// name_field returns the string `field` of `req`, 1..MAX_NAME_BYTES long.
fn name_field<'a>(req: &'a Json, field: &str) -> Result<&'a str, Error> {
    let s = string_field(req, field)?;
    if s.is_empty() || s.len() > MAX_NAME_BYTES {
        return Err(invalid(format!(
            "{:?} must be 1 to {} bytes",
            field, MAX_NAME_BYTES
        )));
    }
    Ok(s)
}

fn kv_put(ctx: &Context, payload: &str) -> Result<String, Error> {
    let req = request(payload)?;
    let key = name_field(&req, "key")?;
    let value = string_field(&req, "value")?;
    let now_ms = warden::time_now() / 1_000_000;
    db::exec(
        PUT_SQL,
        &[owner(ctx).into(), key.into(), value.into(), now_ms.into()],
    )?;
    Ok("{}".to_string())
}

fn kv_get(ctx: &Context, payload: &str) -> Result<String, Error> {
    let req = request(payload)?;
    let key = name_field(&req, "key")?;
    let rows = db::query(GET_SQL, &[owner(ctx).into(), key.into()])?;
    let value = rows
        .first()
        .and_then(|r| r.get_str(0))
        .ok_or_else(|| Error::new(Code::NotFound, format!("key {:?} not found", key)))?;
    Ok(Json::object([("key", key.into()), ("value", value.into())]).to_string())
}

fn counter_incr(ctx: &Context, payload: &str) -> Result<String, Error> {
    let req = request(payload)?;
    let name = name_field(&req, "name")?;
    let by = match req.get("by") {
        None => 1,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| invalid("\"by\" must be an integer"))?,
    };
    let owner = owner(ctx);
    // The sum is computed here, not in SQL: an overflowing sum is a float on
    // SQLite and an error on PostgreSQL, and checked_add refuses it the same
    // on both. The read and the write share one write transaction, so no
    // other call's increment comes between them (a conflict on PostgreSQL
    // is DB_BUSY, and the transaction helper retries it).
    let value = db::transaction(true, |tx| {
        let rows = tx.query(COUNTER_SQL, &[owner.as_str().into(), name.into()])?;
        let current = rows.first().and_then(|r| r.get_i64(0)).unwrap_or(0);
        let sum = current
            .checked_add(by)
            .ok_or_else(|| Error::new(Code::OutOfRange, format!("counter {:?} overflows", name)))?;
        let rows = tx.query(
            SET_COUNTER_SQL,
            &[owner.as_str().into(), name.into(), sum.into()],
        )?;
        rows.first()
            .and_then(|r| r.get_i64(0))
            .ok_or_else(|| Error::new(Code::Internal, "counter not stored"))
    })?;
    Ok(Json::object([("name", Json::from(name)), ("value", value.into())]).to_string())
}

fn init(r: &mut Registrar) -> Result<(), Error> {
    for sql in SCHEMA {
        db::exec(sql, &[])?;
    }
    r.rpc_str("kv_put", kv_put)?;
    r.rpc_str("kv_get", kv_get)?;
    r.rpc_str("counter_incr", counter_incr)
}

warden::plugin!(init);
