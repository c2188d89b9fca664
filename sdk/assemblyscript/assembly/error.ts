// Errors and results. AssemblyScript 0.28 has no exceptions (`throw`
// aborts the instance), so a function that can fail returns a Result, and a
// handler fails its call by returning an error Result: the SDK passes its
// code and message to the host, as Nakama's runtime.NewError(msg, code).

import { Status } from "./abi";

/**
 * Code is a gRPC status code (ABI.md section 5). The HTTP API answers with
 * the status that ABI.md lists for it.
 */
export enum Code {
  CANCELED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

const CODE_NAMES: string[] = [
  "CANCELED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
  "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
  "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

/** codeName returns the ABI.md name of code `c`, such as "NOT_FOUND", or "UNKNOWN" outside 1..16. */
export function codeName(c: i32): string {
  return c >= 1 && c <= 16 ? CODE_NAMES[c - 1] : "UNKNOWN";
}

/**
 * RpcError fails a call with a code and a message. A handler returns it in
 * a Result (see err); the caller gets the message with the HTTP status of
 * the code.
 *
 * An error from a host call (the database, registration) also has the ABI
 * `status` the host returned, such as Status.DB_BUSY; other errors have
 * Status.OK there.
 */
export class RpcError {
  constructor(
    public code: Code,
    public message: string,
    public status: Status = Status.OK,
  ) {}

  /** isBusy reports DB_BUSY: roll back and retry the transaction. */
  get isBusy(): bool {
    return this.status == Status.DB_BUSY;
  }

  /** isTxFailed reports TX_FAILED: a statement in this transaction failed; only rollback is accepted. */
  get isTxFailed(): bool {
    return this.status == Status.TX_FAILED;
  }

  /** isReadOnly reports DB_READ_ONLY: a write in a read-only transaction. */
  get isReadOnly(): bool {
    return this.status == Status.DB_READ_ONLY;
  }

  /** isTxState reports TX_STATE: begin inside a transaction, or commit/rollback outside one. */
  get isTxState(): bool {
    return this.status == Status.TX_STATE;
  }

  /** isNotAllowed reports NOT_ALLOWED: refused by policy or in this phase. */
  get isNotAllowed(): bool {
    return this.status == Status.NOT_ALLOWED;
  }

  /** isNotGranted reports NOT_GRANTED: the plugin's grants do not allow an http.request's URL (1.2). */
  get isNotGranted(): bool {
    return this.status == Status.NOT_GRANTED;
  }

  /** isHttpFailed reports HTTP_FAILED: an http.request got no response (1.2). */
  get isHttpFailed(): bool {
    return this.status == Status.HTTP_FAILED;
  }

  /** toString returns "CODE: message", such as "NOT_FOUND: no such key". */
  toString(): string {
    return codeName(this.code) + ": " + this.message;
  }
}

/**
 * Result is the value of type T of an operation that succeeded, or the
 * RpcError of one that failed. Build one with ok(value) or
 * err<T>(code, message); pass an error on with forward<U>().
 *
 * ```ts
 * const rows = db.query("SELECT n FROM t WHERE k = $1", [Value.text(k)]);
 * if (rows.isErr) return rows.forward<string>();
 * ```
 */
export class Result<T> {
  private constructor(private _value: T, private _error: RpcError | null) {}

  /** Result.ok is ok(value). */
  static ok<T>(value: T): Result<T> {
    return new Result<T>(value, null);
  }

  /** Result.fail returns a failed Result holding `e`. */
  static fail<T>(e: RpcError): Result<T> {
    return new Result<T>(zero<T>(), e);
  }

  /** isOk reports success. */
  get isOk(): bool {
    return this._error == null;
  }

  /** isErr reports failure. */
  get isErr(): bool {
    return this._error != null;
  }

  /** error returns the error of a failed Result, or null. */
  get error(): RpcError | null {
    return this._error;
  }

  /**
   * value returns the value of a successful Result.
   *
   * Aborts (a panic: code 13, the instance is discarded) when it failed,
   * with the error's text; check isErr first.
   */
  get value(): T {
    const e = this._error;
    if (e != null) abort("Result.value on an error: " + e.toString());
    return this._value;
  }

  /** valueOr returns the value, or `fallback` when the Result failed. */
  valueOr(fallback: T): T {
    return this._error == null ? this._value : fallback;
  }

  /**
   * forward returns this failed Result's error as a Result<U>, to return it
   * from a function of another type. Aborts when this Result succeeded.
   */
  forward<U>(): Result<U> {
    const e = this._error;
    if (e == null) abort("Result.forward on a success");
    return Result.fail<U>(e!);
  }
}

/** ok returns a successful Result holding `value`. */
export function ok<T>(value: T): Result<T> {
  return Result.ok<T>(value);
}

/** err returns a failed Result<T> with `code` and `message`. */
export function err<T>(code: Code, message: string): Result<T> {
  return Result.fail<T>(new RpcError(code, message));
}

/** The zero value of T: null for references, 0 for numbers. */
// @ts-ignore: decorator
@inline
function zero<T>(): T {
  if (isReference<T>()) return changetype<T>(0);
  // @ts-ignore: a number type
  return <T>0;
}
