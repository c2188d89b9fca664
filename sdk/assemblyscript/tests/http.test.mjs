// Unit tests of http.request, http.get and http.post (ABI 1.2), compiled
// from tests/host.ts by `npm test` and run against a fake warden_v1 host
// that records each encoded request and answers as each test sets.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { instantiate } from "../build/host.js";

const enc = new TextEncoder();
const NOT_GRANTED = -16, HTTP_FAILED = -17, CANCELLED = -10, LIMIT_EXCEEDED = -6, BAD_ARGUMENT = -2;

// The fake host: its answer to the next http_request is either
// { response: Uint8Array } (put in the result slot) or { status, message }.
const fake = { requests: [], answer: null, slot: null, lastError: null };
let memory;

// put applies the buffer convention: write when it fits, return the length.
function put(bytes, ptr, cap) {
  if (bytes.length <= cap) new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
  return BigInt(bytes.length);
}

const sdk = await instantiate(await WebAssembly.compile(await readFile(new URL("../build/host.wasm", import.meta.url))), {
  warden_v1: {
    http_request(ptr, len) {
      fake.requests.push(Uint8Array.from(new Uint8Array(memory.buffer, ptr, len)));
      const a = fake.answer;
      if (a.response) {
        fake.slot = a.response;
        return BigInt(a.response.length);
      }
      fake.lastError = enc.encode(a.message);
      return BigInt(a.status);
    },
    result_read(ptr, cap) {
      if (fake.slot == null) return -1n;
      const n = put(fake.slot, ptr, cap);
      if (n <= BigInt(cap)) fake.slot = null;
      return n;
    },
    last_error(ptr, cap) {
      return fake.lastError == null ? -1n : put(fake.lastError, ptr, cap);
    },
  },
});
memory = sdk.memory;

function reset(answer) {
  fake.requests = [];
  fake.answer = answer;
  fake.slot = null;
  fake.lastError = null;
}

// Encoders of ABI 1.2's layout, written independently of the SDK.
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const field = (s) => { const b = typeof s === "string" ? enc.encode(s) : s; return Buffer.concat([u32(b.length), b]); };
const map = (pairs) => Buffer.concat([u32(pairs.length), ...pairs.flatMap(([k, v]) => [field(k), field(v)])]);
const response = (status, headers, body) => Buffer.concat([u32(status), map(headers), field(body)]);
const hex = (b) => Buffer.from(b).toString("hex");

test("request encoding", () => {
  reset({ response: response(204, [], "") });
  const got = sdk.request("PUT", "http://127.0.0.1:8080/x?q=1", "X-A: 1\nX-A: 2", enc.encode("body"), 1500);
  assert.equal(got, "204|||<none>|");
  const want = Buffer.concat([field("PUT"), field("http://127.0.0.1:8080/x?q=1"),
    map([["X-A", "1"], ["X-A", "2"]]), field("body"), u32(1500)]);
  assert.deepEqual(fake.requests.map(hex), [hex(want)]);
  assert.equal(hex(sdk.encodeRequest("PÜT", "u", "", new Uint8Array(0), 0)),
    hex(Buffer.concat([field("PÜT"), field("u"), map([]), field(""), u32(0)])));
});

test("get and post helpers", () => {
  reset({ response: response(200, [], "") });
  sdk.get("http://h/");
  sdk.post("http://h/p", "application/json", enc.encode("{}"));
  assert.deepEqual(fake.requests.map(hex), [
    hex(Buffer.concat([field("GET"), field("http://h/"), map([]), field(""), u32(0)])),
    hex(Buffer.concat([field("POST"), field("http://h/p"), map([["Content-Type", "application/json"]]), field("{}"), u32(0)])),
  ]);
});

test("response decoding and header lookup", () => {
  const headers = [["content-type", "text/plain"], ["x-reply", "one"], ["x-reply", "two"]];
  reset({ response: response(404, headers, "nöpe") });
  assert.equal(sdk.get("https://example.com/"),
    "404|content-type=text/plain,x-reply=one,x-reply=two|nöpe|one|one+two");
  assert.equal(fake.slot, null, "the result slot was read");
  // A body longer than the SDK's first read buffer takes a second result_read.
  const big = "x".repeat(5000);
  reset({ response: response(200, [], big) });
  assert.equal(sdk.get("http://h/"), `200||${big}|<none>|`);
});

test("a bad response is INTERNAL", () => {
  const ok = response(200, [], "abc");
  for (const [name, b, why] of [["truncated", ok.subarray(0, ok.length - 1), "truncated"],
    ["trailing", Buffer.concat([ok, Buffer.from([0])]), "trailing bytes"], ["empty", Buffer.alloc(0), "truncated"]]) {
    reset({ response: b });
    assert.equal(sdk.get("http://h/"), `ERR 13 -9 INTERNAL: decode http_request response: ${why}`, name);
  }
});

test("errors carry the status, the host's message and a code", () => {
  const cases = [
    [NOT_GRANTED, "NOT_GRANTED", 7, " not_granted"], [HTTP_FAILED, "HTTP_FAILED", 14, " http_failed"],
    [CANCELLED, "CANCELLED", 4, ""], [LIMIT_EXCEEDED, "LIMIT_EXCEEDED", 8, ""], [BAD_ARGUMENT, "BAD_ARGUMENT", 13, ""],
  ];
  for (const [status, name, code, flags] of cases) {
    reset({ status, message: `host says ${name}` });
    assert.equal(sdk.request("GET", "http://h/", "A: b", new Uint8Array(0), 0),
      `ERR ${code} ${status}${flags} ${name}: host says ${name}`);
  }
});
