// Outbound HTTP requests (ABI 1.2, http_request), under the grants of the
// plugin's manifest NAME.toml. The public entry points are http.request,
// http.get and http.post (plugin.ts); this file encodes the request and
// decodes the response.

import { http_request } from "./env";
import { Status, statusName } from "./abi";
import { Code, Result, RpcError, ok } from "./error";
import { KeyValue, Cursor, done } from "./codec";
import { Reader, ResultRead, lastErrorOr } from "./hostcall";
import { byteLength, decodeLossy, encodeInto } from "./utf8";

/**
 * Response is the answer to an outbound request: its status, its headers
 * (names lower-cased by the host, a repeated header once per value, in the
 * order received) and its body. A 4xx or 5xx answer is a Response too.
 */
export class Response {
  constructor(
    /** status is the HTTP status, such as 200 or 404. */
    readonly status: i32,
    /** headers are every header, once per value, in the order received. */
    readonly headers: KeyValue[],
    /** body is the response body. */
    readonly body: Uint8Array,
  ) {}

  /** header returns the first value of header `name`, which is case-insensitive, or null. */
  header(name: string): string | null {
    const n = name.toLowerCase();
    for (let i = 0; i < this.headers.length; i++) {
      if (this.headers[i].key.toLowerCase() == n) return this.headers[i].value;
    }
    return null;
  }

  /** values returns every value of header `name`, which is case-insensitive, in the order received. */
  values(name: string): string[] {
    const n = name.toLowerCase();
    const out = new Array<string>();
    for (let i = 0; i < this.headers.length; i++) {
      if (this.headers[i].key.toLowerCase() == n) out.push(this.headers[i].value);
    }
    return out;
  }

  /** text returns the body as text; invalid UTF-8 is replaced with U+FFFD. */
  text(): string {
    return decodeLossy(this.body);
  }
}

/** Appends len:u32 and the UTF-8 of `s` at `p`; returns the next position. */
function putString(p: usize, s: string): usize {
  const n = encodeInto(s, p + 4);
  store<u32>(p, <u32>n);
  return p + 4 + n;
}

/**
 * encodeHttpRequest encodes an http_request request: method, url,
 * headers (a map), body, then timeout_ms.
 */
export function encodeHttpRequest(method: string, url: string, headers: KeyValue[], body: Uint8Array, timeoutMs: u32): Uint8Array {
  let size = 20 + byteLength(method) + byteLength(url) + body.length;
  for (let i = 0; i < headers.length; i++) size += 8 + byteLength(headers[i].key) + byteLength(headers[i].value);
  const out = new Uint8Array(size);
  let p = putString(putString(out.dataStart, method), url);
  store<u32>(p, <u32>headers.length);
  p += 4;
  for (let i = 0; i < headers.length; i++) p = putString(putString(p, headers[i].key), headers[i].value);
  store<u32>(p, <u32>body.length);
  memory.copy(p + 4, body.dataStart, <usize>body.length);
  p += 4 + <usize>body.length;
  store<u32>(p, timeoutMs);
  return out;
}

/**
 * decodeHttpResponse decodes an http_request response: status:u32,
 * headers:map, blen:u32 body. A bad encoding fails with INTERNAL and the
 * reason, such as "truncated".
 */
export function decodeHttpResponse(b: Uint8Array): Result<Response> {
  const r = new Cursor(b.dataStart, b.dataStart + <usize>b.length);
  const status = r.u32();
  const headers = r.map();
  const body = r.bytes();
  r.finish();
  return done<Response>(r, new Response(<i32>status, headers, body));
}

/**
 * httpErrorCode is the code a handler fails with when it returns the error
 * of a failed request: PERMISSION_DENIED for NOT_GRANTED, UNAVAILABLE for
 * HTTP_FAILED, DEADLINE_EXCEEDED for CANCELLED, RESOURCE_EXHAUSTED for
 * LIMIT_EXCEEDED, INTERNAL otherwise (a bad request is the plugin's bug).
 */
export function httpErrorCode(st: i32): Code {
  switch (st) {
    case Status.NOT_GRANTED: return Code.PERMISSION_DENIED;
    case Status.HTTP_FAILED: return Code.UNAVAILABLE;
    case Status.CANCELLED: return Code.DEADLINE_EXCEEDED;
    case Status.LIMIT_EXCEEDED: return Code.RESOURCE_EXHAUSTED;
  }
  return Code.INTERNAL;
}

/** httpError is the error of a request that failed with `st`: "STATUS: host message". */
function httpError(st: i32, message: string): RpcError {
  return new RpcError(httpErrorCode(st), statusName(st) + ": " + message, st);
}

/** sendHttpRequest is http.request. */
export function sendHttpRequest(method: string, url: string, headers: KeyValue[], body: Uint8Array, timeoutMs: u32): Result<Response> {
  const req = encodeHttpRequest(method, url, headers, body, timeoutMs);
  const n = http_request(req.dataStart, <usize>req.length);
  if (n < 0) {
    const st = n < -0x7fffffff ? Status.INTERNAL : <i32>n;
    return Result.fail<Response>(httpError(st, lastErrorOr(st)));
  }
  const rd = new Reader();
  if (!rd.read(new ResultRead())) return Result.fail<Response>(httpError(rd.status, lastErrorOr(rd.status)));
  const res = decodeHttpResponse(rd.bytes());
  if (res.isErr) {
    return Result.fail<Response>(httpError(Status.INTERNAL, "decode http_request response: " + res.error!.message));
  }
  return ok<Response>(res.value);
}
