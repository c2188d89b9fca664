// Exact conversions between doubles and decimal text, so that JSON numbers
// read and print as in Go, Rust and JavaScript: parsing rounds correctly
// (to nearest, ties to even), and printing gives the shortest digits that
// read back the same. AssemblyScript's own dtoa (Grisu2) is not always
// shortest and its strtod truncates past 19 digits, so neither is used.
//
// Each direction has a cheap exact path for common numbers and a general
// one with big integers. Printing: shortestFast (up to 15 digits, floating
// point checked by Clinger's exact case), shortestLong (16 or 17 digits,
// 128-bit integers), shortest (anything, Burger and Dybvig). Parsing:
// Clinger's fast path, correct128 (up to 19 digits), correct (anything),
// in parsefloat.ts.

import { Big } from "./big";
import { U128 } from "./wide";

export const MANT_BITS = 52;
export const HIDDEN: u64 = <u64>1 << MANT_BITS;
export const MANT_MASK: u64 = HIDDEN - 1;

// Working registers of the conversions. An instance runs one call at a
// time, so sharing them saves allocating big integers for every number.
export const R = new Big();
export const S = new Big();
const MP = new Big();
const MM = new Big();
export const T = new Big();

// The digits of the last shortest() call, as ASCII.
const DIGITS: usize = memory.data(20);

/**
 * shortest writes to DIGITS the shortest digits that read back as x (x > 0,
 * finite), the closest such when there are several, and returns
 * (count << 16) | (k + 0x8000) where x = 0.<digits> * 10^k. This is Burger
 * and Dybvig's free-format algorithm, exact with big integers: the same
 * result as Rust's Grisu with Dragon fallback, and as JavaScript's
 * Number.prototype.toString except that an exact tie rounds up.
 */
function shortest(x: f64): i32 {
  const bits = reinterpret<u64>(x);
  const be = <i32>((bits >> MANT_BITS) & 0x7ff);
  const frac = bits & MANT_MASK;
  const f: u64 = be == 0 ? frac : frac | HIDDEN;
  const e: i32 = be == 0 ? -1074 : be - 1075;
  // Ties on a boundary read back to x when its mantissa is even.
  const even = (f & 1) == 0;
  // The gap to the next double below is half the gap above at a power of two.
  const asym = be > 1 && frac == 0;
  // x = R/S; the rounding interval is ((R-MM)/S, (R+MP)/S).
  if (e >= 0) {
    R.set(f).shl(e + (asym ? 2 : 1));
    S.set(asym ? 4 : 2);
    MP.set(1).shl(asym ? e + 1 : e);
    MM.set(1).shl(e);
  } else {
    R.set(f).shl(asym ? 2 : 1);
    S.set(1).shl((asym ? 2 : 1) - e);
    MP.set(asym ? 2 : 1);
    MM.set(1);
  }
  // Scale so that the high end is just below 1: estimate k from the binary
  // exponent (x is in [2^e2, 2^(e2+1))), then fix it.
  const e2 = e + 63 - <i32>clz(f);
  let k = <i32>Math.ceil(<f64>e2 * 0.30102999566398114);
  if (k >= 0) {
    S.mulPow10(k);
  } else {
    R.mulPow10(-k);
    MP.mulPow10(-k);
    MM.mulPow10(-k);
  }
  for (;;) {
    const c = T.setSum(R, MP).cmp(S);
    if (even ? c < 0 : c <= 0) break;
    S.mulSmall(10);
    k++;
  }
  for (;;) {
    const c = T.setSum(R, MP).mulSmall(10).cmp(S);
    if (even ? c >= 0 : c > 0) break;
    R.mulSmall(10);
    MP.mulSmall(10);
    MM.mulSmall(10);
    k--;
  }
  let n = 0;
  for (;;) {
    R.mulSmall(10);
    MP.mulSmall(10);
    MM.mulSmall(10);
    let d = 0;
    while (R.cmp(S) >= 0) {
      R.sub(S);
      d++;
    }
    const lo = R.cmp(MM);
    const hi = T.setSum(R, MP).cmp(S);
    const tc1 = even ? lo <= 0 : lo < 0;
    const tc2 = even ? hi >= 0 : hi > 0;
    if (tc1 || tc2) {
      if (tc2 && (!tc1 || T.setSum(R, R).cmp(S) >= 0)) d++;
      store<u8>(DIGITS + n++, <u8>(0x30 + d));
      return (n << 16) | (k + 0x8000);
    }
    store<u8>(DIGITS + n++, <u8>(0x30 + d));
  }
  return 0; // not reached
}

/**
 * shortestFast is shortest for doubles whose shortest form has at most 15
 * significant digits, the common case of numbers people write. Such a form
 * D lies within half a unit in the last place of x (about 1.1e-16
 * relative), so c = round(x * 10^s), the 15-digit integer nearest to x, is
 * D followed by zeros: checking that c reads back as x (exact, by Clinger's
 * fast path, for c < 2^53 and |s| <= 22) and dropping its trailing zeros
 * gives D. Two different forms of at most 15 digits cannot both read back
 * as x, so D is also the nearest. It returns -1 when x has no such form (it
 * needs 16 or 17 digits), and 0 when it cannot tell.
 */
function shortestFast(x: f64): i32 {
  if (x < 1e-8 || x >= 1e37) return 0;
  let e10 = <i32>Math.floor(Math.log10(x));
  // Make 10^e10 <= x < 10^(e10 + 1) hold exactly.
  if (pow10(e10) > x) e10--;
  else if (pow10(e10 + 1) <= x) e10++;
  const sc = 14 - e10;
  if (sc < -22 || sc > 22) return 0;
  const y = sc >= 0 ? x * POW10[sc] : x / POW10[-sc];
  const c = Math.round(y);
  // Too near a half to round in floating point: let shortest decide.
  if (Math.abs(y - Math.floor(y) - 0.5) < 1e-3) return 0;
  if (c < 1e14 || c >= 1e15) return 0;
  const back = sc >= 0 ? c / POW10[sc] : c * POW10[-sc];
  if (back != x) return -1;
  // x = c * 10^-sc = 0.<15 digits> * 10^(15 - sc).
  return digitsOf(<u64>c, 15, sc);
}

// Registers of shortestLong.
const TX = new U128();
const P10 = new U128();
const D = new U128();
const G = new U128();
const BEST = new U128();

/**
 * shortestLong is shortest for a double that needs 16 or 17 digits (as
 * shortestFast found), in 1e-5 <= x < 2^53; it returns 0 outside that
 * range. For p = 16, then 17, the candidates are the p-digit integers just
 * below and above x * 10^s, and one reads back as x when it lies in x's
 * rounding interval; 128-bit integers make both exact in that range. Of two
 * that read back, the nearer wins, and an exact tie rounds up, as in
 * shortest.
 */
function shortestLong(x: f64): i32 {
  const bits = reinterpret<u64>(x);
  const be = <i32>((bits >> MANT_BITS) & 0x7ff);
  const frac = bits & MANT_MASK;
  const e = be - 1075; // x = f * 2^e
  if (be == 0 || e > 0 || e < -70 || x < 1e-5) return 0;
  const f = frac | HIDDEN;
  const even = (f & 1) == 0;
  const lowShift = be > 1 && frac == 0 ? 2 : 1; // the gap below is half at a power of two
  const k = -e;
  let e10 = <i32>Math.floor(Math.log10(x));
  if (pow10(e10) > x) e10--;
  else if (pow10(e10 + 1) <= x) e10++;
  for (let p = 16; p <= 17; p++) {
    const sc = p - 1 - e10;
    if (sc < 0 || sc > 21) return 0;
    // P10 = 10^sc; TX = x * 10^sc * 2^k = f * 10^sc, exactly.
    if (sc <= 19) P10.set(<u64>POW10[sc]);
    else P10.set(10000000000000000000).mulSmall(sc == 20 ? 10 : 100);
    if (sc <= 19) TX.setMul(f, <u64>POW10[sc]);
    else TX.setMul(f, 10000000000000000000).mulSmall(sc == 20 ? 10 : 100);
    const q = D.copy(TX).shr(k).lo;
    let best: u64 = 0;
    const lo = <u64>POW10[p - 1];
    const hi = <u64>(p == 16 ? 1e16 : 1e17);
    for (let c = q; c <= q + 1; c++) {
      if (c < lo || c >= hi) continue;
      // D = c * 2^k; G = |D - TX|, which must be within half a gap (10^sc / 2).
      D.set(c).shl(k);
      const above = D.cmp(TX) >= 0;
      if (above) G.copy(D).sub(TX);
      else G.copy(TX).sub(D);
      D.copy(G).shl(above ? 1 : lowShift);
      const c2 = D.cmp(P10);
      if (even ? c2 > 0 : c2 >= 0) continue;
      // The nearer of the two; on a tie the upper one (c = q + 1).
      if (best == 0 || G.cmp(BEST) <= 0) {
        best = c;
        BEST.copy(G);
      }
    }
    if (best != 0) return digitsOf(best, p, sc);
  }
  return 0;
}

/** Writes the p-digit integer v to DIGITS without trailing zeros, for x = v * 10^-sc. */
function digitsOf(v: u64, p: i32, sc: i32): i32 {
  let nd = p;
  while (v % 10 == 0) {
    v /= 10;
    nd--;
  }
  for (let i = nd - 1; i >= 0; i--) {
    store<u8>(DIGITS + i, <u8>(0x30 + v % 10));
    v /= 10;
  }
  return (nd << 16) | (p - sc + 0x8000);
}

/** 10^k as a double, exact for |k| <= 22 and close otherwise. */
export function pow10(k: i32): f64 {
  if (k >= 0 && k <= 22) return POW10[k];
  if (k < 0 && k >= -22) return 1 / POW10[-k];
  return Math.pow(10, k);
}

/**
 * formatFloat writes a finite double as JSON: the shortest digits that read
 * back the same, in plain notation for 1e-6 <= |x| < 1e21 and otherwise as
 * d.ddde±N, as JavaScript and Go's encoding/json do. Zero prints as "0" and
 * negative zero as "-0". NaN and infinities, which JSON cannot hold, print
 * as "null".
 */
export function formatFloat(x: f64): string {
  if (!isFinite(x)) return "null";
  const neg = (reinterpret<u64>(x) >> 63) != 0;
  const sign = neg ? "-" : "";
  const a = Math.abs(x);
  if (a == 0) return sign + "0";
  // An integer below 2^53 is its own shortest form.
  if (a < 9007199254740992.0 && Math.floor(a) == a) return sign + (<u64>a).toString();
  let r = shortestFast(a);
  if (r < 0) r = shortestLong(a);
  if (r <= 0) r = shortest(a);
  const n = r >>> 16;
  const k = (r & 0xffff) - 0x8000;
  const digits = String.UTF8.decodeUnsafe(DIGITS, <usize>n);
  if (a >= 1e-6 && a < 1e21) {
    if (k <= 0) return sign + "0." + "0".repeat(-k) + digits;
    if (k >= n) return sign + digits + "0".repeat(k - n);
    return sign + digits.substring(0, k) + "." + digits.substring(k);
  }
  const mant = n > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
  const e = k - 1;
  return sign + mant + (e < 0 ? "e-" + (-e).toString() : "e+" + e.toString());
}

export const POW10: f64[] = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
  1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];
