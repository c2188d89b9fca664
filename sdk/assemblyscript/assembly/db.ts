// The database shared by all plugins (ABI.md 3.5). Keep to portable SQL
// (ABI.md section 6): $1 parameters, BIGINT/TEXT/BLOB, ON CONFLICT upserts,
// RETURNING, and tables prefixed with the plugin's name.

import { db_begin, db_commit, db_engine, db_exec, db_query, db_rollback } from "./env";
import { Engine, Status, TxMode, statusName } from "./abi";
import { Code, Result, RpcError, ok } from "./error";
import { Reader, ResultRead, lastErrorOr } from "./hostcall";
import { decodeRows, encodeValues } from "./codec";
import { Rows, Value } from "./value";
import { encode } from "./utf8";
import { retryBusy } from "./retry";
import { sleepNs } from "./sleep";
import { randomBytes } from "./util";

/**
 * dbError returns the error for a failed database call that returned `st`:
 * UNAVAILABLE when it is retryable (DB_BUSY), INTERNAL otherwise, with the
 * message "STATUS: host message" and `status` set.
 */
function dbError(st: i32): RpcError {
  const code = st == Status.DB_BUSY ? Code.UNAVAILABLE : Code.INTERNAL;
  return new RpcError(code, statusName(st) + ": " + lastErrorOr(st), st);
}

function check(st: i32): RpcError | null {
  return st == Status.OK ? null : dbError(st);
}

function count(n: i64): Result<i64> {
  if (n >= 0) return ok<i64>(n);
  return Result.fail<i64>(dbError(n < -0x7fffffff ? Status.INTERNAL : <i32>n));
}

/**
 * db runs SQL statements on the server's database:
 *
 * ```ts
 * db.exec("CREATE TABLE IF NOT EXISTS demo_kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL)");
 * const rows = db.query("SELECT v FROM demo_kv WHERE k = $1", [Value.text("hits")]);
 * ```
 *
 * A failed call returns an error Result whose RpcError has the ABI status
 * (status, isBusy, isTxFailed, ...): its code is UNAVAILABLE when the call
 * may be retried (DB_BUSY) and INTERNAL otherwise, so a handler can return
 * it as it is.
 */
export namespace db {
  /** engine returns the engine that serves the database; branch on it only where portable SQL cannot do. */
  export function engine(): Engine {
    return <Engine>db_engine();
  }

  /**
   * exec runs one statement that returns no rows and returns the number of
   * rows affected. Errors: DB_ERROR (bad SQL, constraint), DB_BUSY,
   * TX_FAILED, DB_READ_ONLY, NOT_ALLOWED, LIMIT_EXCEEDED, CANCELLED.
   */
  export function exec(sql: string, args: Value[] = []): Result<i64> {
    const s = encode(sql);
    const a = encodeValues(args);
    return count(db_exec(s.dataStart, <usize>s.length, a.dataStart, <usize>a.length));
  }

  /**
   * query runs one statement that returns rows, including
   * INSERT ... RETURNING. Errors as exec, plus LIMIT_EXCEEDED when the
   * result is too large.
   */
  export function query(sql: string, args: Value[] = []): Result<Rows> {
    const s = encode(sql);
    const a = encodeValues(args);
    const n = count(db_query(s.dataStart, <usize>s.length, a.dataStart, <usize>a.length));
    if (n.isErr) return n.forward<Rows>();
    const r = new Reader();
    if (!r.read(new ResultRead())) return Result.fail<Rows>(dbError(r.status));
    const rows = decodeRows(r.bytes());
    if (rows.isErr) {
      return Result.fail<Rows>(new RpcError(Code.INTERNAL, "decode query result: " + rows.error!.message, Status.INTERNAL));
    }
    return rows;
  }

  /**
   * begin starts a transaction and returns it. Statements until commit or
   * rollback run in it; one still open when the call ends is rolled back.
   * Errors: TX_STATE inside a transaction, DB_BUSY.
   */
  export function begin(mode: TxMode = TxMode.READ_WRITE): Result<Tx> {
    const e = check(db_begin(<i32>mode));
    return e == null ? ok<Tx>(new Tx(mode)) : Result.fail<Tx>(e);
  }

  /**
   * commit commits the open transaction. Errors: TX_STATE outside one;
   * TX_FAILED (and it was rolled back) when a statement in it failed;
   * DB_BUSY.
   */
  export function commit(): RpcError | null {
    return check(db_commit());
  }

  /** rollback rolls back the open transaction. Errors: TX_STATE outside one. */
  export function rollback(): RpcError | null {
    return check(db_rollback());
  }

  /**
   * transaction runs `fn` in a transaction of `mode`: it commits when fn
   * returns null and rolls back when fn returns an error. When begin, a
   * statement of fn or commit fails with DB_BUSY (a lock held too long on
   * SQLite, a serialization failure or deadlock on PostgreSQL), it rolls
   * back, sleeps a jittered, growing time (see BUSY_BACKOFF_NS) and runs
   * fn again in a new transaction, up to MAX_TX_ATTEMPTS times in all; so
   * fn may run more than once and must keep no state across attempts
   * (AssemblyScript has no closures: fn is a top-level function, and
   * passes its results through globals). Other errors end it at once.
   * Returns null, or the error of the last attempt.
   *
   * ```ts
   * function bump(tx: Tx): RpcError | null {
   *   return tx.exec("UPDATE demo_kv SET v = v + 1 WHERE k = 'n'").error;
   * }
   * const e = db.transaction(TxMode.READ_WRITE, bump);
   * ```
   */
  export function transaction(mode: TxMode, fn: (tx: Tx) => RpcError | null): RpcError | null {
    if (txFn != null) return new RpcError(Code.INTERNAL, "TX_STATE: db.transaction inside db.transaction", Status.TX_STATE);
    txFn = fn;
    txMode = mode;
    retryBusy(txAttempt, sleepNs, randomU32);
    const e = txErr;
    txFn = null;
    txErr = null;
    return e;
  }
}

// The transaction that db.transaction runs (AssemblyScript has no
// closures, so txAttempt finds it here).
let txFn: ((tx: Tx) => RpcError | null) | null = null;
let txMode: TxMode = TxMode.READ_WRITE;
let txErr: RpcError | null = null;

/** txAttempt is one attempt of db.transaction; it reports whether it failed with DB_BUSY. */
function txAttempt(): bool {
  const begun = db.begin(txMode);
  if (begun.isErr) {
    txErr = begun.error;
    return txErr!.isBusy;
  }
  const tx = begun.value;
  const fn = txFn!;
  let e = fn(tx);
  if (e == null) e = db.commit();
  if (e == null) {
    txErr = null;
    return false;
  }
  db.rollback(); // after TX_FAILED the host has rolled back already
  txErr = e;
  return e.isBusy || tx.busy;
}

/** randomU32 returns 32 random bits from the host. */
function randomU32(): u32 {
  const b = randomBytes(4);
  return <u32>b[0] | (<u32>b[1] << 8) | (<u32>b[2] << 16) | (<u32>b[3] << 24);
}


/**
 * Tx is an open transaction, returned by db.begin. Its exec and query are
 * db.exec and db.query; having a Tx shows that they run inside it.
 *
 * ```ts
 * const tx = db.begin(TxMode.READ_WRITE);
 * if (tx.isErr) return tx.forward<string>();
 * const r = tx.value.exec("UPDATE demo_kv SET v = v + 1 WHERE k = $1", [Value.text(k)]);
 * if (r.isErr) { tx.value.rollback(); return r.forward<string>(); }
 * const e = tx.value.commit();
 * if (e != null) return Result.fail<string>(e);
 * ```
 */
export class Tx {
  /** busy is set when a statement of the transaction failed with DB_BUSY. */
  busy: bool = false;

  constructor(
    /** mode is the mode the transaction was begun with. */
    readonly mode: TxMode,
  ) {}

  /** exec is db.exec inside the transaction. */
  exec(sql: string, args: Value[] = []): Result<i64> {
    const r = db.exec(sql, args);
    if (r.isErr && r.error!.isBusy) this.busy = true;
    return r;
  }

  /** query is db.query inside the transaction. */
  query(sql: string, args: Value[] = []): Result<Rows> {
    const r = db.query(sql, args);
    if (r.isErr && r.error!.isBusy) this.busy = true;
    return r;
  }

  /** commit is db.commit. */
  commit(): RpcError | null {
    return db.commit();
  }

  /** rollback is db.rollback. */
  rollback(): RpcError | null {
    return db.rollback();
  }
}
