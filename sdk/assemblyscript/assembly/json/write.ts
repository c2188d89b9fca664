// Compact JSON serialization of Json, into one reusable UTF-16 buffer so
// that printing a document makes one string, not one per value.

import { Json, JsonKind } from "./index";
import { formatFloat } from "./float";
import { plainRun } from "./parse";

// The output buffer: raw memory, outside the garbage collector, reused by
// every toString (an instance runs one call at a time, and writing calls no
// user code). It keeps the size of the largest document, up to KEEP bytes.
const KEEP: usize = 1 << 20;
let buf: usize = 0;
let cap: usize = 0;
let len: usize = 0;

function reserve(n: usize): void {
  if (len + n <= cap) return;
  let c = cap < 256 ? <usize>256 : cap;
  while (c < len + n) c <<= 1;
  buf = buf == 0 ? heap.alloc(c) : heap.realloc(buf, c);
  cap = c;
}

function putString(s: string): void {
  const n = <usize>s.length << 1;
  reserve(n);
  memory.copy(buf + len, changetype<usize>(s), n);
  len += n;
}

function putChar(c: u32): void {
  reserve(2);
  store<u16>(buf + len, <u16>c);
  len += 2;
}

/** Returns the compact JSON of `v`. */
export function toJson(v: Json): string {
  len = 0;
  writeValue(v);
  const s = String.UTF16.decodeUnsafe(buf, len);
  if (cap > KEEP) {
    heap.free(buf);
    buf = 0;
    cap = 0;
  }
  return s;
}

function writeValue(v: Json): void {
  switch (v.kind) {
    case JsonKind.NULL: putString("null"); break;
    case JsonKind.BOOL: putString(v.asBool() ? "true" : "false"); break;
    case JsonKind.INT: putString(v.asInt().toString()); break;
    case JsonKind.FLOAT: putString(formatFloat(v.asFloat())); break;
    case JsonKind.STRING: putQuoted(v.asString()!); break;
    case JsonKind.ARRAY: {
      const a = v.asArray()!;
      putChar(0x5b);
      for (let i = 0; i < a.length; i++) {
        if (i > 0) putChar(0x2c);
        writeValue(unchecked(a[i]));
      }
      putChar(0x5d);
      break;
    }
    default: {
      const o = v.asObject()!;
      const keys = o.keys();
      if (keys.length > 1) keys.sort(compareCodePoints);
      putChar(0x7b);
      for (let i = 0; i < keys.length; i++) {
        if (i > 0) putChar(0x2c);
        const k = unchecked(keys[i]);
        putQuoted(k);
        putChar(0x3a);
        writeValue(o.get(k));
      }
      putChar(0x7d);
    }
  }
}

/**
 * Compares strings by code point, which is UTF-8 byte order (Go's and
 * Rust's). UTF-16 order differs from it only when a surrogate (a code point
 * above U+FFFF) meets a unit in U+E000..U+FFFF.
 */
function compareCodePoints(a: string, b: string): i32 {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = <i32>a.charCodeAt(i);
    let y = <i32>b.charCodeAt(i);
    if (x == y) continue;
    // Surrogates sort after U+E000..U+FFFF in code point order.
    if (x >= 0xd800 && x < 0xe000) x += 0x2000;
    else if (x >= 0xe000) x -= 0x800;
    if (y >= 0xd800 && y < 0xe000) y += 0x2000;
    else if (y >= 0xe000) y -= 0x800;
    return x - y;
  }
  return a.length - b.length;
}

const HEX = "0123456789abcdef";

/** Appends `s` as a JSON string; see writeString. */
function putQuoted(s: string): void {
  const n = s.length;
  // Two units per character is enough unless control characters need \u00XX.
  reserve((<usize>n << 1) + 4);
  putChar(0x22);
  let start = 0;
  const p = changetype<usize>(s);
  for (let i = plainRun(s, 0); i < n; i++) {
    const c = <u32>load<u16>(p + (<usize>i << 1));
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    const run = <usize>(i - start) << 1;
    reserve(run + 12);
    memory.copy(buf + len, p + (<usize>start << 1), run);
    len += run;
    putChar(0x5c);
    switch (c) {
      case 0x22: putChar(0x22); break;
      case 0x5c: putChar(0x5c); break;
      case 0x0a: putChar(0x6e); break;
      case 0x0d: putChar(0x72); break;
      case 0x09: putChar(0x74); break;
      case 0x08: putChar(0x62); break;
      case 0x0c: putChar(0x66); break;
      default:
        putChar(0x75);
        putChar(0x30);
        putChar(0x30);
        putChar(HEX.charCodeAt(c >> 4));
        putChar(HEX.charCodeAt(c & 15));
    }
    start = i + 1;
    i = plainRun(s, start) - 1;
  }
  const run = <usize>(n - start) << 1;
  reserve(run + 2);
  memory.copy(buf + len, p + (<usize>start << 1), run);
  len += run;
  putChar(0x22);
}

/**
 * writeString returns `s` as a JSON string, escaping `"`, `\` and control
 * characters (\n, \r, \t, \b, \f, else \u00XX). Other characters, including
 * non-ASCII, are kept as they are.
 */
export function writeString(s: string): string {
  len = 0;
  putQuoted(s);
  return String.UTF16.decodeUnsafe(buf, len);
}
