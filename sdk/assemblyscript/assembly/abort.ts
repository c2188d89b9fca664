// AssemblyScript's abort (a failed assert, an index out of range, throw,
// running out of memory) routed to the ABI's panic, so the caller sees
// "panic: <message> at <file>:<line>:<column>" with code 13 instead of a
// bare trap, and the plugin needs no env.abort import. Plugins select it
// with the compiler option
//
//   --use abort=~lib/warden-sdk/assembly/abort/wardenAbort
//
// which the SDK's asconfig.json sets for plugins that extend it.

import { panic } from "./env";

// The message is built in static memory, without allocating: abort may be
// called because allocation failed. The host cuts panic messages at 8 KiB.
const CAP: usize = 8192;
const BUF: usize = memory.data(8192);

let aborting = false;

/** wardenAbort is the abort handler; see the file comment. */
export function wardenAbort(
  message: string | null = null,
  fileName: string | null = null,
  line: u32 = 0,
  column: u32 = 0,
): void {
  if (aborting) unreachable(); // abort while building the message: trap as is
  aborting = true;
  let n: usize = 0;
  n = put(n, message != null ? message : "abort");
  if (fileName != null) {
    n = put(n, " at ");
    n = put(n, fileName);
    n = put(n, ":");
    n = putInt(n, line);
    n = put(n, ":");
    n = putInt(n, column);
  }
  panic(BUF, n);
  unreachable();
}

/** Appends `s` as UTF-8 at BUF+n, as far as it fits; unpaired surrogates become U+FFFD. */
function put(n: usize, s: string): usize {
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = <u32>s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xe000) {
      const d = i + 1 < len ? <u32>s.charCodeAt(i + 1) : 0;
      if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    }
    const w: usize = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (n + w > CAP) return n;
    const p = BUF + n;
    if (w == 1) {
      store<u8>(p, <u8>c);
    } else if (w == 2) {
      store<u8>(p, <u8>(0xc0 | (c >> 6)));
      store<u8>(p, <u8>(0x80 | (c & 0x3f)), 1);
    } else if (w == 3) {
      store<u8>(p, <u8>(0xe0 | (c >> 12)));
      store<u8>(p, <u8>(0x80 | ((c >> 6) & 0x3f)), 1);
      store<u8>(p, <u8>(0x80 | (c & 0x3f)), 2);
    } else {
      store<u8>(p, <u8>(0xf0 | (c >> 18)));
      store<u8>(p, <u8>(0x80 | ((c >> 12) & 0x3f)), 1);
      store<u8>(p, <u8>(0x80 | ((c >> 6) & 0x3f)), 2);
      store<u8>(p, <u8>(0x80 | (c & 0x3f)), 3);
    }
    n += w;
  }
  return n;
}

/** Appends the decimal digits of `v` at BUF+n, as far as they fit. */
function putInt(n: usize, v: u32): usize {
  let digits: usize = 1;
  for (let t = v; t >= 10; t /= 10) digits++;
  if (n + digits > CAP) return n;
  for (let i = digits; i > 0; i--) {
    store<u8>(BUF + n + i - 1, <u8>(0x30 + v % 10));
    v /= 10;
  }
  return n + digits;
}
