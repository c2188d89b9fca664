// debugQuote writes a string as Rust's `{:?}` does, because the Rust seed
// logs its payload with `{:?}` and this port logs the same bytes.

import { ESCAPE_RANGES, ESCAPES } from "./escapes";

/**
 * debugQuote returns `s` in double quotes with Rust's escapes: \0 \t \r \n
 * \\ \" by name, non-printable characters and grapheme extenders as
 * \u{hex} (see escapes.ts), and everything else as it is.
 */
export function debugQuote(s: string): string {
  const out: string[] = ["\""];
  let start = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = <u32>s.charCodeAt(i);
    let w = 1;
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const d = <u32>s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        w = 2;
      }
    }
    const esc = escape(c);
    if (esc != null) {
      out.push(s.substring(start, i));
      out.push(esc);
      start = i + w;
    }
    i += w - 1;
  }
  out.push(s.substring(start));
  out.push("\"");
  return out.join("");
}

function escape(c: u32): string | null {
  switch (c) {
    case 0x00: return "\\0";
    case 0x09: return "\\t";
    case 0x0a: return "\\n";
    case 0x0d: return "\\r";
    case 0x22: return "\\\"";
    case 0x5c: return "\\\\";
  }
  if (c >= 0x20 && c < 0x7f) return null;
  return escaped(c) ? "\\u{" + c.toString(16) + "}" : null;
}

// The table as range bounds: range i is starts[i]..ends[i], inclusive.
// Decoded from escapes.ts at the first use; the same in every call.
let starts: StaticArray<u32> | null = null;
const ends = new StaticArray<u32>(ESCAPE_RANGES);

function decodeTable(): StaticArray<u32> {
  const st = new StaticArray<u32>(ESCAPE_RANGES);
  let p = ESCAPES;
  let next: u32 = 0;
  for (let i = 0; i < ESCAPE_RANGES; i++) {
    const gap = leb(p);
    p += <usize>(gap >> 32);
    const len = leb(p);
    p += <usize>(len >> 32);
    st[i] = next + <u32>gap;
    ends[i] = st[i] + <u32>len;
    next = ends[i] + 1;
  }
  starts = st;
  return st;
}

/** Reports whether code point c is in the escape table (a binary search). */
function escaped(c: u32): bool {
  let st = starts;
  if (st == null) st = decodeTable();
  // The last range that starts at or before c.
  let lo = 0;
  let hi = ESCAPE_RANGES;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (unchecked(st[mid]) <= c) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && c <= unchecked(ends[lo - 1]);
}

/** Reads a LEB128 number at p: the value, and the number of bytes it took in the high 32 bits. */
function leb(p: usize): u64 {
  let v: u32 = 0;
  let shift: u32 = 0;
  let n: u64 = 0;
  let b: u32;
  do {
    b = <u32>load<u8>(p + <usize>n);
    n++;
    v |= (b & 0x7f) << shift;
    shift += 7;
  } while (b >= 0x80);
  return (n << 32) | <u64>v;
}
