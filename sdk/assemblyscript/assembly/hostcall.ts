// Helpers shared by the safe wrappers: the buffer convention (ABI.md 1.1,
// rule 4) and the message of the last failed host call.

import { ctx_get, last_error, result_read } from "./env";
import { Status, statusName } from "./abi";
import { decodeRange } from "./utf8";

/** ctx_get of the key at (ptr, len), with the buffer convention. */
export class CtxGet {
  ptr: usize = 0;
  len: usize = 0;

  @inline call(dst: usize, cap: usize): i64 {
    return ctx_get(this.ptr, this.len, dst, cap);
  }
}

/** result_read, with the buffer convention. */
export class ResultRead {
  @inline call(dst: usize, cap: usize): i64 {
    return result_read(dst, cap);
  }
}

/** last_error, with the buffer convention. */
export class LastError {
  @inline call(dst: usize, cap: usize): i64 {
    return last_error(dst, cap);
  }
}

// A first attempt goes to this static buffer, so a short value takes one
// host call and no allocation; a longer one takes a second call. An
// instance runs one call at a time and the host never calls back into it,
// so one buffer is enough.
const SCRATCH_CAP: usize = 512;
const SCRATCH: usize = memory.data(512);

/**
 * Reader reads one value with the buffer convention: after read, `status`
 * is Status.OK and the value is at (ptr, len), or `status` is the failure.
 * The value is valid until the next host call that uses the scratch buffer.
 */
export class Reader {
  status: i32 = Status.OK;
  ptr: usize = 0;
  len: i32 = 0;
  // Keeps a value longer than the scratch buffer alive.
  private big: Uint8Array | null = null;

  /** read calls `src` (a CtxGet, ResultRead or LastError) and reports success. */
  read<S>(src: S): bool {
    this.big = null;
    // @ts-ignore: S has call(dst, cap)
    let n: i64 = src.call(SCRATCH, SCRATCH_CAP);
    // The length only changes between attempts if the host misbehaves; give up then.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (n < 0) {
        this.status = n < -0x7fffffff ? Status.INTERNAL : <i32>n;
        return false;
      }
      if (n > 0x7fffffff) {
        this.status = Status.LIMIT_EXCEEDED;
        return false;
      }
      const cap: usize = attempt == 0 ? SCRATCH_CAP : <usize>this.big!.length;
      if (<u64>n <= <u64>cap) {
        this.status = Status.OK;
        this.ptr = attempt == 0 ? SCRATCH : this.big!.dataStart;
        this.len = <i32>n;
        return true;
      }
      const big = new Uint8Array(<i32>n);
      this.big = big;
      // @ts-ignore: S has call(dst, cap)
      n = src.call(big.dataStart, <usize>n);
    }
    this.status = Status.INTERNAL;
    return false;
  }

  /** bytes returns a copy of the value. */
  bytes(): Uint8Array {
    const big = this.big;
    if (big != null && this.ptr == big.dataStart && this.len == big.length) return big;
    const out = new Uint8Array(this.len);
    memory.copy(out.dataStart, this.ptr, <usize>this.len);
    return out;
  }

  /** text returns the value as a string; invalid UTF-8 is replaced. */
  text(): string {
    return decodeRange(this.ptr, this.len, true)!;
  }
}

/**
 * lastErrorOr returns the host's message for the most recent failed host
 * call in this call, or the status name of `st` when the host gives none.
 */
export function lastErrorOr(st: i32): string {
  const r = new Reader();
  if (r.read(new LastError()) && r.len > 0) return r.text();
  return statusName(st);
}
