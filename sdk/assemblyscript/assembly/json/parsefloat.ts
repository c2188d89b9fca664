// Parsing decimal numbers to the nearest double; see float.ts.

import { Big } from "./big";
import { U128 } from "./wide";
import { HIDDEN, MANT_BITS, MANT_MASK, POW10, R, S, T, pow10 } from "./float";

/**
 * parseDigits returns the double nearest to digits * 10^exp10 (ties to
 * even), where digits is a string of decimal digits (leading and trailing
 * zeros allowed). It returns Infinity past the largest double, and 0 below
 * half the smallest.
 */
export function parseDigits(digits: string, exp10: i32): f64 {
  // Significant digits: drop leading and trailing zeros, moving the exponent.
  let start = 0;
  let end = digits.length;
  while (start < end && digits.charCodeAt(start) == 0x30) start++;
  while (end > start && digits.charCodeAt(end - 1) == 0x30) {
    end--;
    exp10++;
  }
  const nd = end - start;
  if (nd == 0) return 0;
  // value = D * 10^exp10 with D the nd digits. Far out of range: no need to look closer.
  if (nd + exp10 > 310) return Infinity;
  if (nd + exp10 < -324) return 0;
  // Clinger's fast path: an exact integer times an exact power of ten.
  if (nd <= 15 && exp10 >= -22 && exp10 <= 22) {
    const m = <f64>leading(digits, start, nd);
    return exp10 < 0 ? m / POW10[-exp10] : m * POW10[exp10];
  }
  // Up to 19 digits and a moderate exponent: exact in 128 bits.
  if (nd <= 19 && exp10 >= -21 && exp10 <= 19) {
    const w = leading(digits, start, nd);
    const r = correct128(w, exp10, <f64>w * pow10(exp10));
    if (r >= 0) return r;
  }
  // Keep at most 800 digits; any dropped non-zero digit is remembered as a
  // trailing 1, which decides ties as the full number would (a double's
  // exact decimal expansion never needs more than 767 digits).
  let sig = digits.substring(start, end);
  if (nd > 800) {
    exp10 += nd - 801;
    sig = sig.substring(0, 800) + "1";
  }
  // The digits as a big integer, nine at a time.
  const big = R.set(0);
  for (let i = 0; i < sig.length; i += 9) {
    const m = min(9, sig.length - i);
    big.mulPow10(m).addSmall(<u32>leading(sig, i, m));
  }
  // An estimate from the first 19 digits, then exact correction.
  const used = sig.length < 19 ? sig.length : 19;
  let x = <f64>leading(sig, 0, used);
  const p = exp10 + sig.length - used;
  if (p < -300) {
    x = x * Math.pow(10, <f64>(p + 300)) * 1e-300;
  } else if (p > 300) {
    x = x * Math.pow(10, <f64>(p - 300)) * 1e300;
  } else {
    x = x * Math.pow(10, <f64>p);
  }
  if (!isFinite(x)) x = F64.MAX_VALUE;
  return correct(big, exp10, x);
}

/** The first n digits of s from start, as an integer (n <= 19). */
function leading(s: string, start: i32, n: i32): u64 {
  let v: u64 = 0;
  for (let i = 0; i < n; i++) v = v * 10 + <u64>(s.charCodeAt(start + i) - 0x30);
  return v;
}

/**
 * Moves x one double at a time until it is the nearest double to
 * D * 10^exp10 (ties to even), comparing exactly with the midpoints between
 * neighbouring doubles. The estimate is off by a few units at most.
 */
function correct(D: Big, exp10: i32, x: f64): f64 {
  for (;;) {
    const bits = reinterpret<u64>(x);
    const odd = (bits & 1) != 0;
    const c = cmpMid(D, exp10, bits);
    if (c > 0 || (c == 0 && odd)) {
      if (x == F64.MAX_VALUE) return Infinity;
      x = reinterpret<f64>(bits + 1);
      continue;
    }
    if (bits != 0) {
      const c2 = cmpMid(D, exp10, bits - 1);
      if (c2 < 0 || (c2 == 0 && odd)) {
        x = reinterpret<f64>(bits - 1);
        continue;
      }
    }
    return x;
  }
}

/**
 * correct128 is correct for w * 10^exp10 with w < 2^64, comparing in 128
 * bits; it returns -1 when a comparison does not fit (correct decides then).
 */
function correct128(w: u64, exp10: i32, x: f64): f64 {
  if (!isFinite(x)) x = F64.MAX_VALUE;
  for (let steps = 0; steps < 64; steps++) {
    const bits = reinterpret<u64>(x);
    const odd = (bits & 1) != 0;
    const c = cmpMid128(w, exp10, bits);
    if (c == -2) return -1;
    if (c > 0 || (c == 0 && odd)) {
      if (x == F64.MAX_VALUE) return Infinity;
      x = reinterpret<f64>(bits + 1);
      continue;
    }
    if (bits != 0) {
      const c2 = cmpMid128(w, exp10, bits - 1);
      if (c2 == -2) return -1;
      if (c2 < 0 || (c2 == 0 && odd)) {
        x = reinterpret<f64>(bits - 1);
        continue;
      }
    }
    return x;
  }
  return -1;
}

const L = new U128();
const M = new U128();

/** cmpMid with w < 2^64 in 128 bits: -1, 0 or 1, or -2 when it does not fit. */
function cmpMid128(w: u64, exp10: i32, bits: u64): i32 {
  const be = <i32>((bits >> MANT_BITS) & 0x7ff);
  const frac = bits & MANT_MASK;
  const f: u64 = be == 0 ? frac : frac | HIDDEN;
  const e: i32 = be == 0 ? -1074 : be - 1075;
  // L = w * 10^exp10, M = (2f + 1) * 2^(e - 1), scaled to integers.
  if (exp10 >= 0) {
    L.setMul(w, <u64>POW10[exp10]);
    M.set(2 * f + 1);
  } else {
    L.set(w);
    M.setMul(2 * f + 1, <u64>POW10[-exp10 < 20 ? -exp10 : 19]);
    if (-exp10 > 19) M.mulSmall(-exp10 == 20 ? 10 : 100);
  }
  if (e - 1 >= 0) {
    if (e - 1 >= <i32>clz128(M)) return -2;
    M.shl(e - 1);
  } else {
    if (1 - e >= <i32>clz128(L)) return -2;
    L.shl(1 - e);
  }
  return L.cmp(M);
}

/** The number of leading zero bits of u. */
function clz128(u: U128): u64 {
  return u.hi != 0 ? clz(u.hi) : 64 + clz(u.lo);
}

/**
 * Compares D * 10^exp10 with the midpoint between the double with bits
 * `bits` (finite, >= 0) and the next one up: (2f + 1) * 2^(e - 1).
 */
function cmpMid(D: Big, exp10: i32, bits: u64): i32 {
  const be = <i32>((bits >> MANT_BITS) & 0x7ff);
  const frac = bits & MANT_MASK;
  const f: u64 = be == 0 ? frac : frac | HIDDEN;
  const e: i32 = be == 0 ? -1074 : be - 1075;
  const lhs = S.copy(D);
  const rhs = T.set(2 * f + 1);
  if (exp10 >= 0) lhs.mulPow10(exp10);
  else rhs.mulPow10(-exp10);
  if (e - 1 >= 0) rhs.shl(e - 1);
  else lhs.shl(1 - e);
  return lhs.cmp(rhs);
}
