// Time and randomness from the host (ABI.md 3.6). The module has no WASI
// and no env imports, so these are the plugin's only clock and entropy.

import { random_fill, time_now } from "./env";
import { Limit, Status } from "./abi";
import { lastErrorOr } from "./hostcall";

/** timeNow returns the wall-clock time in nanoseconds since the Unix epoch. */
export function timeNow(): i64 {
  return time_now();
}

/**
 * randomFill fills `buf` with cryptographically secure random bytes.
 * Aborts (a panic) when the host fails, which it does only on a host bug.
 */
export function randomFill(buf: Uint8Array): void {
  for (let off = 0; off < buf.length; off += Limit.MAX_RANDOM_BYTES) {
    const n = min(buf.length - off, Limit.MAX_RANDOM_BYTES);
    const st = random_fill(buf.dataStart + <usize>off, <usize>n);
    if (st != Status.OK) abort("random_fill: " + lastErrorOr(st));
  }
}

/** randomBytes returns `n` cryptographically secure random bytes; see randomFill. */
export function randomBytes(n: i32): Uint8Array {
  const b = new Uint8Array(n);
  randomFill(b);
  return b;
}
