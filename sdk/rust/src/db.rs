//! The database shared by all plugins (ABI.md 3.5). Keep to portable SQL
//! (ABI.md section 6): `$1` parameters, `BIGINT`/`TEXT`/`BLOB`, `ON CONFLICT`
//! upserts, `RETURNING`, and tables prefixed with the plugin's name.
//!
//! ```no_run
//! use warden::db::{self, Value};
//! # fn f() -> Result<(), warden::Error> {
//! db::exec("CREATE TABLE IF NOT EXISTS demo_kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL)", &[])?;
//! let n = db::transaction(true, |tx| {
//!     let rows = tx.query(
//!         "INSERT INTO demo_kv (k, v) VALUES ($1, 1) ON CONFLICT (k) DO UPDATE SET v = demo_kv.v + 1 RETURNING v",
//!         &[Value::from("hits")],
//!     )?;
//!     Ok::<_, warden::Error>(rows.first().and_then(|r| r.get_i64(0)))
//! })?;
//! # Ok(()) }
//! ```

use std::fmt;

use crate::codec;
use crate::hostcall::{last_error_or, read_buffer};
use crate::sys::{self, status};
pub use crate::value::{ColumnIndex, Row, Rows, Value};

/// DbError is a failed database call: the ABI status and the host's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError {
    status: i32,
    message: String,
}

impl DbError {
    /// from_status builds the error for a failed host call that returned `st`,
    /// with the host's `last_error` message.
    fn from_status(st: i32) -> DbError {
        DbError {
            status: st,
            message: last_error_or(st),
        }
    }

    /// status returns the ABI status (a negative number, such as `sys::status::DB_BUSY`).
    pub fn status(&self) -> i32 {
        self.status
    }

    /// message returns the host's message, such as "no such table: x".
    pub fn message(&self) -> &str {
        &self.message
    }

    /// is_busy reports DB_BUSY: roll back and retry the transaction.
    pub fn is_busy(&self) -> bool {
        self.status == status::DB_BUSY
    }

    /// is_tx_failed reports TX_FAILED: an earlier statement in this
    /// transaction failed, so only rollback is accepted.
    pub fn is_tx_failed(&self) -> bool {
        self.status == status::TX_FAILED
    }

    /// is_read_only reports DB_READ_ONLY: a write in a read-only transaction.
    pub fn is_read_only(&self) -> bool {
        self.status == status::DB_READ_ONLY
    }

    /// is_tx_state reports TX_STATE: begin inside a transaction, or
    /// commit/rollback outside one.
    pub fn is_tx_state(&self) -> bool {
        self.status == status::TX_STATE
    }

    /// is_not_allowed reports NOT_ALLOWED: refused by policy (PRAGMA, ATTACH,
    /// transaction statements, `warden_*` tables) or in this phase.
    pub fn is_not_allowed(&self) -> bool {
        self.status == status::NOT_ALLOWED
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", status::name(self.status), self.message)
    }
}

impl std::error::Error for DbError {}

/// Engine is the database engine that serves this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// No database is configured; every statement fails.
    None,
    Sqlite,
    Postgres,
    /// An engine newer than this SDK.
    Other(i32),
}

/// engine returns the engine that serves the db functions. Branch on it only
/// where portable SQL cannot do.
pub fn engine() -> Engine {
    // SAFETY: db_engine takes no arguments.
    match unsafe { sys::db_engine() } {
        sys::engine::NONE => Engine::None,
        sys::engine::SQLITE => Engine::Sqlite,
        sys::engine::POSTGRESQL => Engine::Postgres,
        n => Engine::Other(n),
    }
}

fn check(st: i32) -> Result<(), DbError> {
    if st == status::OK {
        Ok(())
    } else {
        Err(DbError::from_status(st))
    }
}

fn count(n: i64) -> Result<u64, DbError> {
    if n < 0 {
        Err(DbError::from_status(
            i32::try_from(n).unwrap_or(status::INTERNAL),
        ))
    } else {
        Ok(n as u64)
    }
}

/// exec runs one statement that returns no rows and returns the number of
/// rows affected.
///
/// # Errors
///
/// DB_ERROR (bad SQL, constraint), DB_BUSY, TX_FAILED, DB_READ_ONLY,
/// NOT_ALLOWED, LIMIT_EXCEEDED, CANCELLED: see [`DbError`].
pub fn exec(sql: &str, args: &[Value]) -> Result<u64, DbError> {
    let a = codec::encode_values(args);
    // SAFETY: sql and a are borrowed for the duration of the call.
    count(unsafe { sys::db_exec(sql.as_ptr(), sql.len(), a.as_ptr(), a.len()) })
}

/// query runs one statement that returns rows, including `INSERT ... RETURNING`.
///
/// # Errors
///
/// As [`exec`], plus LIMIT_EXCEEDED when the result is too large, and
/// INTERNAL when the host's result cannot be decoded.
pub fn query(sql: &str, args: &[Value]) -> Result<Rows, DbError> {
    let a = codec::encode_values(args);
    // SAFETY: sql and a are borrowed for the duration of the call.
    count(unsafe { sys::db_query(sql.as_ptr(), sql.len(), a.as_ptr(), a.len()) })?;
    // SAFETY: result_read writes at most cap bytes at ptr.
    let buf = read_buffer(|ptr, cap| unsafe { sys::result_read(ptr, cap) })
        .map_err(DbError::from_status)?;
    codec::decode_rows(&buf).map_err(|e| DbError {
        status: status::INTERNAL,
        message: format!("decode query result: {}", e),
    })
}

/// TxMode is the mode of [`begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// Writes fail with DB_READ_ONLY.
    ReadOnly = sys::tx::READ_ONLY as isize,
    /// Takes the write lock at once, so the transaction cannot fail later
    /// for lock upgrade.
    ReadWrite = sys::tx::READ_WRITE as isize,
}

/// begin starts a transaction. Statements until [`commit`] or [`rollback`]
/// run in it; one still open when the call ends is rolled back.
///
/// # Errors
///
/// TX_STATE inside a transaction; DB_BUSY.
pub fn begin(mode: TxMode) -> Result<(), DbError> {
    // SAFETY: db_begin takes a plain integer.
    check(unsafe { sys::db_begin(mode as i32) })
}

/// commit commits the open transaction.
///
/// # Errors
///
/// TX_STATE outside a transaction; TX_FAILED (it was rolled back) when a
/// statement in it failed; DB_BUSY.
pub fn commit() -> Result<(), DbError> {
    // SAFETY: db_commit takes no arguments.
    check(unsafe { sys::db_commit() })
}

/// rollback rolls back the open transaction.
///
/// # Errors
///
/// TX_STATE outside a transaction.
pub fn rollback() -> Result<(), DbError> {
    // SAFETY: db_rollback takes no arguments.
    check(unsafe { sys::db_rollback() })
}

/// Tx is an open transaction, given to the closure of [`transaction`].
/// Its methods are [`exec`] and [`query`]; having a `&Tx` shows that they
/// run inside the transaction.
#[derive(Debug)]
pub struct Tx {
    _private: (),
}

impl Tx {
    /// exec is [`exec`] inside the transaction.
    pub fn exec(&self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        exec(sql, args)
    }

    /// query is [`query`] inside the transaction.
    pub fn query(&self, sql: &str, args: &[Value]) -> Result<Rows, DbError> {
        query(sql, args)
    }
}

/// transaction runs `f` in a transaction (read-write when `write`), commits
/// when it returns Ok and rolls back when it returns Err. It does not retry:
/// on an error whose [`DbError::is_busy`] is true, the caller may run it again.
///
/// # Errors
///
/// The error of `f`, or of begin or commit converted with `From<DbError>`.
pub fn transaction<T, E: From<DbError>>(
    write: bool,
    f: impl FnOnce(&Tx) -> Result<T, E>,
) -> Result<T, E> {
    begin(if write {
        TxMode::ReadWrite
    } else {
        TxMode::ReadOnly
    })?;
    match f(&Tx { _private: () }) {
        Ok(v) => match commit() {
            Ok(()) => Ok(v),
            Err(e) => {
                // TX_FAILED has rolled back already; after DB_BUSY, end the transaction.
                let _ = rollback();
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = rollback();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::native;
    use crate::{Code, Error};

    fn rows_bytes() -> Vec<u8> {
        // One column "v", one row: INT64 42.
        let mut b = vec![1, 0, 0, 0, 1, 0, 0, 0, b'v', 1, 0, 0, 0, 1];
        b.extend_from_slice(&42i64.to_le_bytes());
        b
    }

    fn reset(result: Option<Vec<u8>>) {
        native::with(|f| {
            *f = native::Fake::default();
            f.db_result = result;
            f.db_affected = 3;
        });
    }

    fn db_log() -> Vec<String> {
        native::with(|f| f.db_log.iter().map(|e| e.0.clone()).collect())
    }

    #[test]
    fn exec_and_query() {
        reset(Some(rows_bytes()));
        assert_eq!(exec("DELETE FROM t WHERE k = $1", &["a".into()]), Ok(3));
        let args = native::with(|f| f.db_log[0].1.clone());
        assert_eq!(args, vec![1, 0, 0, 0, 3, 1, 0, 0, 0, b'a']);
        let rows = query("SELECT v FROM t", &[]).unwrap();
        assert_eq!(rows.first().and_then(|r| r.get_i64("v")), Some(42));
    }

    #[test]
    fn query_error_has_host_message() {
        reset(None);
        let e = query("SELECT * FROM nope", &[]).unwrap_err();
        assert_eq!(
            (e.status(), e.message()),
            (status::DB_ERROR, "no such table: fake")
        );
        assert_eq!(e.to_string(), "DB_ERROR: no such table: fake");
        assert!(!e.is_busy());
        assert_eq!(Error::from(e).code, Code::Internal);
    }

    #[test]
    fn transaction_commits_or_rolls_back() {
        reset(Some(rows_bytes()));
        let v = transaction(true, |tx| tx.query("SELECT v FROM t", &[])).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(db_log(), vec!["BEGIN 1", "SELECT v FROM t", "COMMIT"]);

        reset(Some(rows_bytes()));
        let r: Result<(), Error> = transaction(false, |tx| {
            tx.exec("UPDATE t SET v = 1", &[])?;
            Err(Error::new(Code::Aborted, "stop"))
        });
        assert_eq!(r.unwrap_err().code, Code::Aborted);
        assert_eq!(db_log(), vec!["BEGIN 0", "UPDATE t SET v = 1", "ROLLBACK"]);
    }
}
