// The per-call context: who called, how, and the server's environment
// (ABI.md 3.3). Every getter asks the host when called and returns null when
// the value is absent, for example userId on a server-to-server call, or a
// key that is not available in the current phase.

import { CtxKey } from "./abi";
import { KeyValue, decodeMap } from "./codec";
import { CtxGet, Reader } from "./hostcall";
import { byteLength, encode, encodeInto } from "./utf8";

// Every getter reads through these: an instance runs one call at a time,
// and a getter runs no other code while it reads. Short keys are encoded
// into static memory, so a getter allocates only its result.
const reader = new Reader();
const getter = new CtxGet();
const KEY_CAP = 256;
const KEY: usize = memory.data(256);

/** Reads context key `key` into `reader`; false when it is absent. */
function read(key: string): bool {
  const n = byteLength(key);
  if (n <= KEY_CAP) {
    encodeInto(key, KEY);
    getter.ptr = KEY;
    getter.len = <usize>n;
    return reader.read(getter);
  }
  const b = encode(key);
  getter.ptr = b.dataStart;
  getter.len = <usize>b.length;
  const found = reader.read(getter);
  getter.ptr = 0; // b is no longer needed; keep no pointer to it
  return found;
}

/**
 * Context reads the current call's context. Handlers get one; in init,
 * Registrar.context gives one where only env, node, version and the plugin
 * keys exist.
 */
export class Context {
  /** getBytes returns the raw value of context key `key`, or null when it is absent. */
  getBytes(key: string): Uint8Array | null {
    return read(key) ? reader.bytes() : null;
  }

  /** get returns context key `key` as text (invalid UTF-8 is replaced), or null when it is absent. */
  get(key: string): string | null {
    return read(key) ? reader.text() : null;
  }

  /** getMap returns the map at context key `key`, in order; empty when absent. */
  getMap(key: string): KeyValue[] {
    if (!read(key)) return [];
    return decodeMap(reader.ptr, reader.len).valueOr([]);
  }

  /** userId is the caller's user ID; null for a server-to-server call. */
  get userId(): string | null {
    return this.get(CtxKey.USER_ID);
  }

  /** username is the caller's username; null without a user. */
  get username(): string | null {
    return this.get(CtxKey.USERNAME);
  }

  /** sessionExpiry is when the caller's session expires, in Unix seconds; 0 without a user. */
  get sessionExpiry(): i64 {
    const s = this.get(CtxKey.USER_SESSION_EXP);
    return s == null ? 0 : parseDecimal(s);
  }

  /** vars are the session variables, sorted by name; empty without a user. */
  get vars(): KeyValue[] {
    return this.getMap(CtxKey.VARS);
  }

  /** var returns one session variable, or null. */
  var(name: string): string | null {
    return this.get(CtxKey.VAR_PREFIX + name);
  }

  /**
   * headers are the request headers sorted by canonical name
   * (Content-Type), once per value. Authorization is never included for
   * RPCs.
   */
  get headers(): KeyValue[] {
    return this.getMap(CtxKey.HEADERS);
  }

  /** header returns the first value of a header, or null; `name` is case-insensitive. */
  header(name: string): string | null {
    return this.get(CtxKey.HEADER_PREFIX + name);
  }

  /** queryParams are the query parameters (without http_key), sorted by name, once per value. */
  get queryParams(): KeyValue[] {
    return this.getMap(CtxKey.QUERY_PARAMS);
  }

  /** query returns the first value of a query parameter, or null; `name` is case-sensitive. */
  query(name: string): string | null {
    return this.get(CtxKey.QUERY_PREFIX + name);
  }

  /** env is the plugin environment from the server's configuration. */
  get env(): KeyValue[] {
    return this.getMap(CtxKey.ENV);
  }

  /** envVar returns one value of the plugin environment, or null. */
  envVar(name: string): string | null {
    return this.get(CtxKey.ENV_PREFIX + name);
  }

  /** executionMode is how the plugin was invoked: "rpc" for an RPC, "http" for an HTTP handler. */
  get executionMode(): string | null {
    return this.get(CtxKey.EXECUTION_MODE);
  }

  /** node is the server's node name. */
  get node(): string | null {
    return this.get(CtxKey.NODE);
  }

  /** serverVersion is the server's version. */
  get serverVersion(): string | null {
    return this.get(CtxKey.VERSION);
  }

  /** clientIp is the client's IP address. */
  get clientIp(): string | null {
    return this.get(CtxKey.CLIENT_IP);
  }

  /** clientPort is the client's port; 0 when absent. */
  get clientPort(): i32 {
    const s = this.get(CtxKey.CLIENT_PORT);
    return s == null ? 0 : <i32>parseDecimal(s);
  }

  /** traceId is the request's trace id. */
  get traceId(): string | null {
    return this.get(CtxKey.TRACE_ID);
  }

  /** rpcId is the lowercased id of the RPC being called; null for HTTP handlers. */
  get rpcId(): string | null {
    return this.get(CtxKey.RPC_ID);
  }

  /** pluginName is this plugin's name: its file name without .wasm. */
  get pluginName(): string | null {
    return this.get(CtxKey.PLUGIN_NAME);
  }

  /** pluginVersion is the first 12 hex digits of the SHA-256 of this plugin's .wasm. */
  get pluginVersion(): string | null {
    return this.get(CtxKey.PLUGIN_VERSION);
  }

  /** httpMethod is an HTTP handler's request method, such as "POST". */
  get httpMethod(): string | null {
    return this.get(CtxKey.HTTP_METHOD);
  }

  /** httpPath is an HTTP handler's request path, decoded. */
  get httpPath(): string | null {
    return this.get(CtxKey.HTTP_PATH);
  }

  /** httpRoute is the pattern the HTTP handler registered. */
  get httpRoute(): string | null {
    return this.get(CtxKey.HTTP_ROUTE);
  }

  /** route returns the value of a `:name` or `*name` route parameter, or null. */
  route(name: string): string | null {
    return this.get(CtxKey.ROUTE_PREFIX + name);
  }
}

/** Parses a decimal integer; 0 when it is not one. */
function parseDecimal(s: string): i64 {
  let n: i64 = 0;
  let neg = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (i == 0 && c == 0x2d) {
      neg = true;
      continue;
    }
    if (c < 0x30 || c > 0x39) return 0;
    n = n * 10 + (c - 0x30);
  }
  return neg ? -n : n;
}
