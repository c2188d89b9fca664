// A small unsigned big integer, enough for exact float conversions: the
// shortest digits of a double (Burger and Dybvig) and correct rounding of
// long or extreme decimal numbers. Limbs are u32, least significant first,
// in a fixed array: every operation works in place and allocates nothing.

/**
 * CAP limbs hold every value the conversions make: at most about 3800
 * bits, for 801 significant digits times 2^1075, or 2^54 times 10^1125.
 */
const CAP = 130;

export class Big {
  /** The number of limbs in use; the highest one is not zero. */
  n: i32 = 0;
  d: StaticArray<u32> = new StaticArray<u32>(CAP);

  /** set sets the value to v. */
  set(v: u64): Big {
    this.n = 0;
    const d = this.d;
    while (v != 0) {
      unchecked((d[this.n++] = <u32>v));
      v >>= 32;
    }
    return this;
  }

  /** copy sets the value to b's. */
  copy(b: Big): Big {
    this.n = b.n;
    memory.copy(changetype<usize>(this.d), changetype<usize>(b.d), <usize>b.n << 2);
    return this;
  }

  /** mulSmall multiplies by m in place. */
  mulSmall(m: u32): Big {
    let carry: u64 = 0;
    const d = this.d;
    const n = this.n;
    for (let i = 0; i < n; i++) {
      const t = <u64>unchecked(d[i]) * <u64>m + carry;
      unchecked((d[i] = <u32>t));
      carry = t >> 32;
    }
    if (carry != 0) this.push(<u32>carry);
    if (m == 0) this.n = 0;
    return this;
  }

  /** addSmall adds a in place. */
  addSmall(a: u32): Big {
    let carry = <u64>a;
    const d = this.d;
    for (let i = 0, n = this.n; i < n && carry != 0; i++) {
      const t = <u64>unchecked(d[i]) + carry;
      unchecked((d[i] = <u32>t));
      carry = t >> 32;
    }
    if (carry != 0) this.push(<u32>carry);
    return this;
  }

  /** mulPow10 multiplies by 10^k (k >= 0) in place. */
  mulPow10(k: i32): Big {
    for (; k >= 9; k -= 9) this.mulSmall(1000000000);
    let m: u32 = 1;
    for (; k > 0; k--) m *= 10;
    return m == 1 ? this : this.mulSmall(m);
  }

  /** shl multiplies by 2^k (k >= 0) in place. */
  shl(k: i32): Big {
    if (this.n == 0 || k == 0) return this;
    const words = k >> 5;
    const bits = k & 31;
    const d = this.d;
    let n = this.n;
    if (bits != 0) {
      let carry: u32 = 0;
      for (let i = 0; i < n; i++) {
        const v = unchecked(d[i]);
        unchecked((d[i] = (v << bits) | carry));
        carry = v >>> (32 - bits);
      }
      if (carry != 0) {
        this.push(carry);
        n++;
      }
    }
    if (words > 0) {
      if (n + words > CAP) abort("Big: overflow");
      const p = changetype<usize>(d);
      memory.copy(p + (<usize>words << 2), p, <usize>n << 2);
      memory.fill(p, 0, <usize>words << 2);
      this.n = n + words;
    }
    return this;
  }

  /** setSum sets the value to a + b. */
  setSum(a: Big, b: Big): Big {
    if (a.n < b.n) return this.setSum(b, a);
    const d = this.d;
    const x = a.d;
    const y = b.d;
    let carry: u64 = 0;
    const n = a.n;
    for (let i = 0; i < n; i++) {
      const t = <u64>unchecked(x[i]) + <u64>(i < b.n ? unchecked(y[i]) : 0) + carry;
      unchecked((d[i] = <u32>t));
      carry = t >> 32;
    }
    this.n = n;
    if (carry != 0) this.push(<u32>carry);
    return this;
  }

  /** sub subtracts b (b <= this) in place. */
  sub(b: Big): Big {
    const d = this.d;
    const e = b.d;
    let borrow: i64 = 0;
    for (let i = 0, n = this.n; i < n; i++) {
      if (i >= b.n && borrow == 0) break;
      let t = <i64>unchecked(d[i]) - <i64>(i < b.n ? unchecked(e[i]) : 0) - borrow;
      borrow = t < 0 ? 1 : 0;
      unchecked((d[i] = <u32>t));
    }
    while (this.n > 0 && unchecked(d[this.n - 1]) == 0) this.n--;
    return this;
  }

  /** cmp returns -1, 0 or 1 as this is less than, equal to or greater than b. */
  cmp(b: Big): i32 {
    if (this.n != b.n) return this.n < b.n ? -1 : 1;
    const d = this.d;
    const e = b.d;
    for (let i = this.n - 1; i >= 0; i--) {
      const x = unchecked(d[i]);
      const y = unchecked(e[i]);
      if (x != y) return x < y ? -1 : 1;
    }
    return 0;
  }

  private push(v: u32): void {
    if (this.n >= CAP) abort("Big: overflow");
    unchecked((this.d[this.n++] = v));
  }
}
