// 128-bit unsigned integers, for the exact 16- and 17-digit path of
// formatFloat: doubles computed by a program (0.1 + 0.2, 1/3) need that
// many digits, and checking two candidates in 128 bits is much cheaper
// than generating the digits with big integers.

/** U128 is a 128-bit unsigned integer; its methods work in place. */
export class U128 {
  hi: u64 = 0;
  lo: u64 = 0;

  /** setMul sets the value to a * b. */
  setMul(a: u64, b: u64): U128 {
    const a0 = a & 0xffffffff;
    const a1 = a >> 32;
    const b0 = b & 0xffffffff;
    const b1 = b >> 32;
    const p00 = a0 * b0;
    const p01 = a0 * b1;
    const p10 = a1 * b0;
    const mid = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
    this.lo = (mid << 32) | (p00 & 0xffffffff);
    this.hi = a1 * b1 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return this;
  }

  /** set sets the value to v. */
  set(v: u64): U128 {
    this.hi = 0;
    this.lo = v;
    return this;
  }

  /** copy sets the value to b's. */
  copy(b: U128): U128 {
    this.hi = b.hi;
    this.lo = b.lo;
    return this;
  }

  /** mulSmall multiplies by m (m < 2^32, the result below 2^128). */
  mulSmall(m: u64): U128 {
    const hi = this.hi * m;
    this.setMul(this.lo, m);
    this.hi += hi;
    return this;
  }

  /** shl multiplies by 2^k (k < 128, the result below 2^128). */
  shl(k: i32): U128 {
    if (k == 0) return this;
    if (k >= 64) {
      this.hi = this.lo << <u64>(k - 64);
      this.lo = 0;
    } else {
      this.hi = (this.hi << <u64>k) | (this.lo >> <u64>(64 - k));
      this.lo <<= <u64>k;
    }
    return this;
  }

  /** shr divides by 2^k, rounding down (k < 128). */
  shr(k: i32): U128 {
    if (k == 0) return this;
    if (k >= 64) {
      this.lo = this.hi >> <u64>(k - 64);
      this.hi = 0;
    } else {
      this.lo = (this.lo >> <u64>k) | (this.hi << <u64>(64 - k));
      this.hi >>= <u64>k;
    }
    return this;
  }

  /** sub subtracts b (b <= this). */
  sub(b: U128): U128 {
    const borrow: u64 = this.lo < b.lo ? 1 : 0;
    this.lo -= b.lo;
    this.hi -= b.hi + borrow;
    return this;
  }

  /** cmp returns -1, 0 or 1 as this is less than, equal to or greater than b. */
  cmp(b: U128): i32 {
    if (this.hi != b.hi) return this.hi < b.hi ? -1 : 1;
    if (this.lo != b.lo) return this.lo < b.lo ? -1 : 1;
    return 0;
  }
}
