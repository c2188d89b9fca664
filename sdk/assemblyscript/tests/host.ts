// Test entry with host imports: http.request, http.get and http.post
// against the fake warden_v1 host of http.test.mjs.

import { http } from "../assembly/plugin";
import { KeyValue } from "../assembly/codec";
import { Response, encodeHttpRequest } from "../assembly/fetch";
import { Result } from "../assembly/error";

/** headers parses "Name: value" lines. */
function headers(spec: string): KeyValue[] {
  const out = new Array<KeyValue>();
  if (spec.length == 0) return out;
  const lines = spec.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const at = lines[i].indexOf(": ");
    out.push(new KeyValue(lines[i].substring(0, at), lines[i].substring(at + 2)));
  }
  return out;
}

/** describe renders a result: "status|k=v,...|body|first x-reply" or "ERR code status message". */
function describe(r: Result<Response>): string {
  if (r.isErr) {
    const e = r.error!;
    const flags = (e.isNotGranted ? " not_granted" : "") + (e.isHttpFailed ? " http_failed" : "");
    return "ERR " + e.code.toString() + " " + e.status.toString() + flags + " " + e.message;
  }
  const res = r.value;
  const hs = new Array<string>();
  for (let i = 0; i < res.headers.length; i++) hs.push(res.headers[i].key + "=" + res.headers[i].value);
  const first = res.header("X-REPLY");
  return res.status.toString() + "|" + hs.join(",") + "|" + res.text() + "|" +
    (first == null ? "<none>" : first) + "|" + res.values("x-Reply").join("+");
}

export function encodeRequest(method: string, url: string, hs: string, body: Uint8Array, timeoutMs: u32): Uint8Array {
  return encodeHttpRequest(method, url, headers(hs), body, timeoutMs);
}

export function request(method: string, url: string, hs: string, body: Uint8Array, timeoutMs: u32): string {
  return describe(http.request(method, url, headers(hs), body, timeoutMs));
}

export function get(url: string): string {
  return describe(http.get(url));
}

export function post(url: string, contentType: string, body: Uint8Array): string {
  return describe(http.post(url, contentType, body));
}
