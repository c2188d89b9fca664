// The plugin's entry points: the handler table that warden_init fills and
// warden_handle dispatches on.

import {
  error_set, http_register, input_read, output_add_header, output_set_status,
  output_write, rpc_register,
} from "./env";
import { Flag, Status } from "./abi";
import { Context } from "./context";
import { Code, Result, RpcError } from "./error";
import { lastErrorOr } from "./hostcall";
import { logger } from "./log";
import { decode, encode } from "./utf8";
import { KeyValue } from "./codec";
import { Response, sendHttpRequest } from "./fetch";

/**
 * Handler serves an RPC (or an HTTP handler) whose payload is any bytes: it
 * gets the context and the payload, and returns the output bytes or an
 * error.
 */
export type Handler = (ctx: Context, payload: Uint8Array) => Result<Uint8Array>;

/**
 * TextHandler serves an RPC whose payload is text, such as JSON. A payload
 * that is not valid UTF-8 fails with INVALID_ARGUMENT before it runs. The
 * output goes back as UTF-8.
 */
export type TextHandler = (ctx: Context, payload: string) => Result<string>;

/** InitFn is the plugin's init: it registers the RPCs on `r`. */
export type InitFn = (r: Registrar) => void;

/** One registered handler: exactly one of the two is set. */
class Entry {
  constructor(
    readonly bytes: Handler | null,
    readonly text: TextHandler | null,
  ) {}
}

// The handler id that rpc_register gets is an index into this table.
const handlers = new Array<Entry>();

// Every call gets the same Context: it holds no state, it asks the host.
const context = new Context();

/**
 * Registrar registers RPCs and HTTP handlers during init (Nakama's
 * Initializer). A registration that fails records the error, and init then
 * fails with the first one; later registrations are skipped.
 */
export class Registrar {
  private _error: RpcError | null = null;

  /** context is the init context: env, node, version, plugin_name and plugin_version are available. */
  get context(): Context {
    return context;
  }

  /** error is the first registration error, or the one given to fail; null when none. */
  get error(): RpcError | null {
    return this._error;
  }

  /** rpc registers `h` as RPC `id` (1..128 bytes, case-insensitive). */
  rpc(id: string, h: Handler): Registrar {
    return this.register(id, new Entry(h, null), 0);
  }

  /** rpcText registers a text handler `h` as RPC `id`; see rpc. */
  rpcText(id: string, h: TextHandler): Registrar {
    return this.register(id, new Entry(null, h), 0);
  }

  /**
   * serverOnlyRpc registers `h` as RPC `id` with the SERVER_ONLY flag: the
   * host refuses a call that carries a user ID with PERMISSION_DENIED,
   * before `h` runs.
   */
  serverOnlyRpc(id: string, h: Handler): Registrar {
    return this.register(id, new Entry(h, null), Flag.SERVER_ONLY);
  }

  /** serverOnlyRpcText is serverOnlyRpc for a text handler. */
  serverOnlyRpcText(id: string, h: TextHandler): Registrar {
    return this.register(id, new Entry(null, h), Flag.SERVER_ONLY);
  }

  /**
   * http registers `h` as the custom HTTP handler of path `pattern`
   * (httprouter syntax: `/hooks/:name`, `/files/*path`) for `methods`, a
   * comma-separated list such as "GET,POST" (empty: GET, HEAD, POST, PUT,
   * PATCH and DELETE). `flags` may hold Flag.SESSION_REQUIRED. The payload
   * is the request body and the output the response body; see the http
   * namespace for the status and headers.
   */
  http(pattern: string, h: Handler, methods: string = "", flags: i32 = 0): Registrar {
    if (this._error != null) return this;
    const id = handlers.length;
    handlers.push(new Entry(h, null));
    const p = encode(pattern);
    const m = encode(methods);
    const st = http_register(p.dataStart, <usize>p.length, m.dataStart, <usize>m.length, id, flags);
    if (st != Status.OK) {
      handlers.pop();
      this._error = registerError("register http " + quote(pattern), st);
    }
    return this;
  }

  /** fail makes init fail with `e` (the first error wins), for a failed setup such as a CREATE TABLE. */
  fail(e: RpcError): Registrar {
    if (this._error == null) this._error = e;
    return this;
  }

  private register(id: string, e: Entry, flags: i32): Registrar {
    if (this._error != null) return this;
    const handlerId = handlers.length;
    handlers.push(e);
    const b = encode(id);
    const st = rpc_register(b.dataStart, <usize>b.length, handlerId, flags);
    if (st != Status.OK) {
      handlers.pop();
      this._error = registerError("register rpc " + quote(id), st);
    }
    return this;
  }
}

function registerError(what: string, st: i32): RpcError {
  let code = Code.INTERNAL;
  if (st == Status.ALREADY_EXISTS) code = Code.ALREADY_EXISTS;
  else if (st == Status.BAD_ARGUMENT) code = Code.INVALID_ARGUMENT;
  else if (st == Status.LIMIT_EXCEEDED) code = Code.RESOURCE_EXHAUSTED;
  return new RpcError(code, what + ": " + lastErrorOr(st), st);
}

function quote(s: string): string {
  return "\"" + s + "\"";
}

/**
 * http sets the response of a custom HTTP handler (ABI.md 3.7; both fail
 * with NOT_ALLOWED in an RPC), and sends outbound requests (1.2) to the
 * URLs the plugin's manifest grants:
 *
 * ```ts
 * const r = http.get("https://api.example.com/items/7");
 * if (r.isErr) return r.forward<string>(); // r.error!.isNotGranted, ...
 * const kind = r.value.header("content-type");
 * ```
 */
export namespace http {
  /**
   * request sends an HTTP request and returns the Response (a 4xx or 5xx
   * answer too). `method` is an HTTP token ("" means GET); `url` is
   * absolute; `headers` are sent in order; `timeoutMs` above 0 shortens
   * the plugin's configured timeout, and the call's deadline bounds both.
   * A failure is an RpcError whose status is NOT_GRANTED, HTTP_FAILED,
   * CANCELLED, LIMIT_EXCEEDED, BAD_ARGUMENT or NOT_ALLOWED (in init), and
   * whose message is "STATUS: host message"; its code is PERMISSION_DENIED,
   * UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED or INTERNAL.
   */
  export function request(method: string, url: string, headers: KeyValue[] = [], body: Uint8Array = new Uint8Array(0), timeoutMs: u32 = 0): Result<Response> {
    return sendHttpRequest(method, url, headers, body, timeoutMs);
  }

  /** get sends a GET request to `url`, with no headers; errors as request. */
  export function get(url: string): Result<Response> {
    return sendHttpRequest("GET", url, [], new Uint8Array(0), 0);
  }

  /** post sends a POST request to `url` with `body` and its Content-Type; errors as request. */
  export function post(url: string, contentType: string, body: Uint8Array): Result<Response> {
    return sendHttpRequest("POST", url, [new KeyValue("Content-Type", contentType)], body, 0);
  }

  /** setStatus sets the HTTP status (default 200); BAD_ARGUMENT outside 200..599. */
  export function setStatus(status: i32): RpcError | null {
    const st = output_set_status(status);
    return st == Status.OK ? null : new RpcError(Code.INTERNAL, "set status: " + lastErrorOr(st), st);
  }

  /** addHeader adds a response header; BAD_ARGUMENT for an invalid or host-managed one. */
  export function addHeader(name: string, value: string): RpcError | null {
    const n = encode(name);
    const v = encode(value);
    const st = output_add_header(n.dataStart, <usize>n.length, v.dataStart, <usize>v.length);
    return st == Status.OK ? null : new RpcError(Code.INTERNAL, "add header " + quote(name) + ": " + lastErrorOr(st), st);
  }
}

/** Sets the call's error and returns the failure result of the exports. */
function fail(e: RpcError): i32 {
  const m = encode(e.message);
  error_set(<i32>e.code, m.dataStart, <usize>m.length);
  return 1;
}

// ASC_RUNTIME's value for --runtime minimal (Runtime.Minimal in the compiler's std/shared/runtime.ts).
const RUNTIME_MINIMAL = 1;

/**
 * Frees the call's garbage once it is over, when the plugin is built with
 * the minimal runtime: it never collects by itself, and collecting is only
 * safe when no frame holds a reference, at the end of an export. The
 * incremental runtime (the SDK's default, see README) collects by itself.
 */
// @ts-ignore: decorator
@inline
function endCall(rc: i32): i32 {
  if (ASC_RUNTIME == RUNTIME_MINIMAL) __collect();
  return rc;
}

/**
 * initModule runs the plugin's init `f` and returns warden_init's result.
 * Export it as warden_init:
 *
 * ```ts
 * export function warden_init(): i32 {
 *   return initModule(init);
 * }
 * ```
 */
export function initModule(f: InitFn): i32 {
  logger.resetLevel();
  // A second init on the same instance starts over, so ids stay dense.
  handlers.length = 0;
  const r = new Registrar();
  f(r);
  const e = r.error;
  return endCall(e == null ? 0 : fail(e));
}

/** warden_abi_v1 is the ABI marker export; never called. Re-export it from the plugin. */
export function warden_abi_v1(): void {}

/** warden_handle runs one RPC; re-export it from the plugin. */
export function warden_handle(handlerId: i32, inputLen: i32): i32 {
  logger.resetLevel();
  return endCall(handle(handlerId, inputLen));
}

function handle(handlerId: i32, inputLen: i32): i32 {
  if (handlerId < 0 || handlerId >= handlers.length) {
    return fail(new RpcError(Code.INTERNAL, "unknown handler id " + handlerId.toString()));
  }
  const entry = handlers[handlerId];
  const input = readInput(inputLen);
  if (input.isErr) return fail(input.error!);
  let out: Uint8Array;
  const h = entry.bytes;
  if (h != null) {
    const res = h(context, input.value);
    if (res.isErr) return fail(res.error!);
    out = res.value;
  } else {
    const text = decode(input.value);
    if (text == null) return fail(new RpcError(Code.INVALID_ARGUMENT, "payload is not valid UTF-8"));
    const res = entry.text!(context, text);
    if (res.isErr) return fail(res.error!);
    out = encode(res.value);
  }
  const e = writeOutput(out);
  return e == null ? 0 : fail(e);
}

function readInput(inputLen: i32): Result<Uint8Array> {
  if (inputLen < 0) return Result.fail<Uint8Array>(new RpcError(Code.INTERNAL, "negative input length"));
  const buf = new Uint8Array(inputLen);
  let off = 0;
  while (off < inputLen) {
    const n = input_read(off, buf.dataStart + <usize>off, <usize>(inputLen - off));
    if (n < 0) return Result.fail<Uint8Array>(new RpcError(Code.INTERNAL, "read input: " + lastErrorOr(n), n));
    if (n == 0) break;
    off += n;
  }
  return Result.ok<Uint8Array>(off == inputLen ? buf : buf.slice(0, off));
}

function writeOutput(b: Uint8Array): RpcError | null {
  if (b.length == 0) return null;
  const st = output_write(b.dataStart, <usize>b.length);
  if (st == Status.OK) return null;
  const code = st == Status.LIMIT_EXCEEDED ? Code.RESOURCE_EXHAUSTED : Code.INTERNAL;
  return new RpcError(code, "write output: " + lastErrorOr(st), st);
}
