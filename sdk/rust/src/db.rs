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
    /// busy is set when a statement failed with DB_BUSY.
    busy: std::cell::Cell<bool>,
}

impl Tx {
    /// exec is [`exec`] inside the transaction.
    pub fn exec(&self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        self.note(exec(sql, args))
    }

    /// query is [`query`] inside the transaction.
    pub fn query(&self, sql: &str, args: &[Value]) -> Result<Rows, DbError> {
        self.note(query(sql, args))
    }

    /// note remembers a DB_BUSY result, so that [`transaction`] retries
    /// whatever error the closure makes of it.
    fn note<T>(&self, r: Result<T, DbError>) -> Result<T, DbError> {
        if matches!(&r, Err(e) if e.is_busy()) {
            self.busy.set(true);
        }
        r
    }
}

pub use crate::retry::{BUSY_BACKOFF_NS, MAX_TX_ATTEMPTS};

/// transaction runs `f` in a transaction (read-write when `write`), commits
/// when it returns Ok and rolls back when it returns Err. When begin, a
/// statement of `f` or commit fails with DB_BUSY (a lock held too long on
/// SQLite, a serialization failure or deadlock on PostgreSQL), it rolls
/// back, sleeps a jittered, growing time (see [`BUSY_BACKOFF_NS`]) and runs
/// `f` again in a new transaction, up to [`MAX_TX_ATTEMPTS`] times in all;
/// so `f` may run more than once and must keep no state across attempts.
/// Other errors end it at once.
///
/// # Errors
///
/// The error of `f`, or of begin or commit converted with `From<DbError>`:
/// of the last attempt when all were busy.
pub fn transaction<T, E: From<DbError>>(
    write: bool,
    mut f: impl FnMut(&Tx) -> Result<T, E>,
) -> Result<T, E> {
    let mut attempt = 1;
    loop {
        let (r, busy) = transaction_once(write, &mut f);
        if r.is_ok() || !busy || attempt == MAX_TX_ATTEMPTS {
            return r;
        }
        crate::retry::sleep_ns(crate::retry::backoff(attempt, crate::retry::random_u32()));
        attempt += 1;
    }
}

/// transaction_once is one attempt of [`transaction`]; it also reports
/// whether it failed with DB_BUSY.
fn transaction_once<T, E: From<DbError>>(
    write: bool,
    f: &mut impl FnMut(&Tx) -> Result<T, E>,
) -> (Result<T, E>, bool) {
    let mode = if write {
        TxMode::ReadWrite
    } else {
        TxMode::ReadOnly
    };
    if let Err(e) = begin(mode) {
        let busy = e.is_busy();
        return (Err(e.into()), busy);
    }
    let tx = Tx {
        busy: std::cell::Cell::new(false),
    };
    match f(&tx) {
        Ok(v) => match commit() {
            Ok(()) => (Ok(v), false),
            Err(e) => {
                // TX_FAILED has rolled back already; after DB_BUSY, end the transaction.
                let _ = rollback();
                let busy = e.is_busy() || tx.busy.get();
                (Err(e.into()), busy)
            }
        },
        Err(e) => {
            let _ = rollback();
            (Err(e), tx.busy.get())
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

    /// run_counted runs a transaction of one UPDATE with commit failing
    /// with DB_BUSY `busy` times; it returns the result, how often the
    /// closure ran and the sleeps.
    fn run_counted(busy: u32, exec_status: i32) -> (Result<u64, DbError>, u32, Vec<u64>) {
        reset(None);
        native::with(|f| {
            f.commit_busy = busy;
            f.exec_status = exec_status;
        });
        let mut attempts = 0;
        let r = transaction(true, |tx| {
            attempts += 1;
            tx.exec("UPDATE t SET v = v + 1", &[])
        });
        (r, attempts, native::with(|f| f.sleeps.clone()))
    }

    #[test]
    fn transaction_retries_busy() {
        for (busy, want_attempts, want_busy) in [
            (0, 1, false),
            (2, 3, false),
            (MAX_TX_ATTEMPTS - 1, MAX_TX_ATTEMPTS, false),
            (100, MAX_TX_ATTEMPTS, true),
        ] {
            let (r, attempts, sleeps) = run_counted(busy, status::OK);
            assert_eq!(attempts, want_attempts, "busy {}", busy);
            assert_eq!(
                r.as_ref().err().map(DbError::is_busy),
                want_busy.then(|| true),
                "busy {}: {:?}",
                busy,
                r
            );
            assert_eq!(sleeps.len() as u32, want_attempts - 1, "busy {}", busy);
            for (i, ns) in sleeps.iter().enumerate() {
                let max = BUSY_BACKOFF_NS << i;
                assert!(
                    *ns >= max / 2 && *ns <= max,
                    "sleep {} = {} ns, want {}..={}",
                    i + 1,
                    ns,
                    max / 2,
                    max
                );
            }
            let begins = db_log().iter().filter(|l| l.starts_with("BEGIN")).count() as u32;
            let rollbacks = db_log().iter().filter(|l| *l == "ROLLBACK").count() as u32;
            assert_eq!(begins, want_attempts, "busy {}", busy);
            assert!(
                rollbacks >= want_attempts - 1,
                "busy {}: {:?}",
                busy,
                db_log()
            );
        }
    }

    #[test]
    fn transaction_does_not_retry_other_errors() {
        for st in [status::DB_ERROR, status::DB_READ_ONLY, status::TX_FAILED] {
            let (r, attempts, sleeps) = run_counted(0, st);
            assert_eq!((attempts, sleeps.len()), (1, 0), "status {}", st);
            assert_eq!(r.unwrap_err().status(), st);
        }
        // A busy statement turned into the closure's own error is retried.
        reset(None);
        native::with(|f| f.exec_status = status::DB_BUSY);
        let mut attempts = 0;
        let r: Result<(), Error> = transaction(true, |tx| {
            attempts += 1;
            tx.exec("UPDATE t SET v = 1", &[])
                .map(|_| ())
                .map_err(|_| Error::new(Code::Aborted, "mine"))
        });
        assert_eq!(
            (attempts, r.unwrap_err().code),
            (MAX_TX_ATTEMPTS, Code::Aborted)
        );
    }

    #[test]
    fn backoff_grows_within_bounds() {
        for attempt in 1..MAX_TX_ATTEMPTS {
            let max = BUSY_BACKOFF_NS << (attempt - 1);
            assert_eq!(crate::retry::backoff(attempt, 0), max / 2);
            assert_eq!(
                crate::retry::backoff(attempt, u32::MAX),
                max / 2 + u64::from(u32::MAX) % (max / 2 + 1)
            );
            assert!(crate::retry::backoff(attempt, u32::MAX) <= max);
        }
    }
}
