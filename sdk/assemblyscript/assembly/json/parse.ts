// The JSON parser behind Json.parse. It reads UTF-16 code units; error
// offsets are converted to UTF-8 bytes, the unit of the wire and of the
// other SDKs' messages.

import { Result } from "../error";
import { byteLength } from "../utf8";
import { Json, MAX_DEPTH, syntaxError } from "./index";
import { parseDigits } from "./parsefloat";

/** Parses exactly one JSON value, with optional whitespace around it. */
export function parse(s: string): Result<Json> {
  const p = new Parser(s);
  const v = p.value(0);
  if (v != null) {
    p.ws();
    if (p.i != s.length) p.fail("unexpected data after the value");
  }
  if (p.reason != null) {
    return Result.fail<Json>(syntaxError(byteLength(s.substring(0, p.at)), p.reason!));
  }
  return Result.ok<Json>(v!);
}

class Parser {
  i: i32 = 0;
  /** The first error: its reason and UTF-16 position. */
  reason: string | null = null;
  at: i32 = 0;

  constructor(private s: string) {}

  /** Records an error at the current position; returns null for the caller to return. */
  fail(reason: string): Json | null {
    return this.failAt(this.i, reason);
  }

  failAt(at: i32, reason: string): Json | null {
    if (this.reason == null) {
      this.reason = reason;
      this.at = at;
    }
    return null;
  }

  @inline peek(): i32 {
    return this.i < this.s.length ? <i32>this.s.charCodeAt(this.i) : -1;
  }

  ws(): void {
    for (;;) {
      const c = this.peek();
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return;
      this.i++;
    }
  }

  eat(c: i32): bool {
    const ok = this.peek() == c;
    if (ok) this.i++;
    return ok;
  }

  literal(word: string, v: Json): Json | null {
    if (!this.s.startsWith(word, this.i)) return this.fail("invalid literal");
    this.i += word.length;
    return v;
  }

  value(depth: i32): Json | null {
    this.ws();
    const c = this.peek();
    if (c < 0) return this.fail("unexpected end of input");
    if (c == 0x6e) return this.literal("null", Json.null());
    if (c == 0x74) return this.literal("true", Json.bool(true));
    if (c == 0x66) return this.literal("false", Json.bool(false));
    if (c == 0x22) {
      const s = this.string();
      return s == null ? null : Json.str(s);
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c == 0x5b || c == 0x7b) {
      if (depth >= MAX_DEPTH) return this.fail("nesting too deep");
      return c == 0x5b ? this.array(depth + 1) : this.object(depth + 1);
    }
    return this.fail("expected a value");
  }

  array(depth: i32): Json | null {
    this.i++;
    const a = new Array<Json>();
    this.ws();
    if (this.eat(0x5d)) return Json.array(a);
    for (;;) {
      const v = this.value(depth);
      if (v == null) return null;
      a.push(v);
      this.ws();
      if (this.eat(0x5d)) return Json.array(a);
      if (!this.eat(0x2c)) return this.fail("expected ',' or ']'");
    }
    return null; // not reached; AssemblyScript's flow analysis needs it
  }

  object(depth: i32): Json | null {
    this.i++;
    const o = Json.object();
    this.ws();
    if (this.eat(0x7d)) return o;
    for (;;) {
      this.ws();
      if (this.peek() != 0x22) return this.fail("expected a string key");
      const k = this.string();
      if (k == null) return null;
      this.ws();
      if (!this.eat(0x3a)) return this.fail("expected ':'");
      const v = this.value(depth);
      if (v == null) return null;
      o.set(k, v);
      this.ws();
      if (this.eat(0x7d)) return o;
      if (!this.eat(0x2c)) return this.fail("expected ',' or '}'");
    }
    return null; // not reached
  }

  digits(): i32 {
    const start = this.i;
    for (;;) {
      const c = this.peek();
      if (c < 0x30 || c > 0x39) break;
      this.i++;
    }
    return this.i - start;
  }

  number(): Json | null {
    const s = this.s;
    const start = this.i;
    const neg = this.eat(0x2d);
    const intStart = this.i;
    const nInt = this.digits();
    if (nInt == 0 || (s.charCodeAt(intStart) == 0x30 && nInt > 1)) return this.fail("invalid number");
    let fracStart = this.i;
    let nFrac = 0;
    let float = false;
    if (this.eat(0x2e)) {
      float = true;
      fracStart = this.i;
      nFrac = this.digits();
      if (nFrac == 0) return this.fail("invalid number");
    }
    let exp: i32 = 0;
    if (this.eat(0x65) || this.eat(0x45)) {
      float = true;
      let expNeg = false;
      if (!this.eat(0x2b)) expNeg = this.eat(0x2d);
      const expStart = this.i;
      if (this.digits() == 0) return this.fail("invalid number");
      // Past 10^6 the value is 0 or out of range whatever the digits.
      for (let j = expStart; j < this.i && exp < 1000000; j++) exp = exp * 10 + (s.charCodeAt(j) - 0x30);
      if (expNeg) exp = -exp;
    }
    if (!float) {
      const n = parseI64(s, intStart, nInt, neg);
      if (n.ok) return Json.int(n.v);
    }
    const digits = s.substring(intStart, intStart + nInt) + s.substring(fracStart, fracStart + nFrac);
    const x = parseDigits(digits, exp - nFrac);
    if (!isFinite(x)) return this.failAt(start, "number out of range");
    return Json.float(neg ? -x : x);
  }

  /** Reads a string starting at its opening quote; null on an error. */
  string(): string | null {
    const s = this.s;
    this.i++; // the opening quote
    // Most strings have no escape: one substring, no concatenation.
    const first = this.i;
    this.i = plainRun(s, this.i);
    let c0 = this.peek();
    while (c0 >= 0x20 && c0 != 0x22 && c0 != 0x5c) {
      this.i++;
      c0 = this.peek();
    }
    if (c0 == 0x22) {
      this.i++;
      return s.substring(first, this.i - 1);
    }
    this.i = first;
    let out = "";
    for (;;) {
      const start = this.i;
      this.i = plainRun(s, this.i);
      let c = this.peek();
      while (c >= 0x20 && c != 0x22 && c != 0x5c) {
        this.i++;
        c = this.peek();
      }
      if (this.i > start) out += s.substring(start, this.i);
      if (c < 0) {
        this.fail("unterminated string");
        return null;
      }
      if (c == 0x22) {
        this.i++;
        return out;
      }
      if (c == 0x5c) {
        this.i++;
        const e = this.escape();
        if (e == null) return null;
        out += e;
        continue;
      }
      this.fail("control character in string");
      return null;
    }
  }

  escape(): string | null {
    const c = this.peek();
    let r: string;
    switch (c) {
      case 0x22: r = "\""; break;
      case 0x5c: r = "\\"; break;
      case 0x2f: r = "/"; break;
      case 0x62: r = "\b"; break;
      case 0x66: r = "\f"; break;
      case 0x6e: r = "\n"; break;
      case 0x72: r = "\r"; break;
      case 0x74: r = "\t"; break;
      case 0x75: {
        this.i++;
        const hi = this.hex4();
        if (hi < 0) return null;
        return this.surrogates(hi);
      }
      default:
        this.fail("invalid escape");
        return null;
    }
    this.i++;
    return r;
  }

  /** Joins a surrogate pair; a lone surrogate becomes U+FFFD, as in Go. */
  surrogates(hi: i32): string | null {
    if (hi >= 0xd800 && hi < 0xdc00 && this.s.startsWith("\\u", this.i)) {
      const save = this.i;
      this.i += 2;
      const lo = this.hex4();
      if (lo < 0) return null;
      if (lo >= 0xdc00 && lo < 0xe000) return String.fromCharCodes([hi, lo]);
      this.i = save; // not a low surrogate: read it as its own escape
    }
    if (hi >= 0xd800 && hi < 0xe000) return "\uFFFD";
    return String.fromCharCode(hi);
  }

  /** Reads 4 hex digits; -1 on an error. */
  hex4(): i32 {
    if (this.i + 4 > this.s.length) {
      this.fail("invalid \\u escape");
      return -1;
    }
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const c = <i32>this.s.charCodeAt(this.i + k);
      let d: i32;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      else {
        this.fail("invalid \\u escape");
        return -1;
      }
      n = n * 16 + d;
    }
    this.i += 4;
    return n;
  }
}

const ONES: u64 = 0x0001000100010001;
const HIGH: u64 = 0x8000800080008000;

/**
 * special reports whether one of the four UTF-16 units in w is `"`, `\` or
 * a control character (the classic "has a zero lane" bit trick on 16-bit
 * lanes: exact for "any").
 */
// @ts-ignore: decorator
@inline
export function special(w: u64): bool {
  const q = w ^ (ONES * 0x22);
  const b = w ^ (ONES * 0x5c);
  return ((((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w)) & HIGH) != 0;
}

/**
 * plainRun returns the index of the first unit at or after i that may end
 * a run of plain string characters, skipping four units at a time.
 */
export function plainRun(s: string, i: i32): i32 {
  const p = changetype<usize>(s);
  const n = s.length;
  while (i + 4 <= n && !special(load<u64>(p + (<usize>i << 1)))) i += 4;
  return i;
}

class ParsedInt {
  constructor(public ok: bool, public v: i64) {}
}

/** Parses n decimal digits at start as an i64 (negated when neg); not ok on overflow. */
function parseI64(s: string, start: i32, n: i32, neg: bool): ParsedInt {
  // Accumulate negatively: -2^63 fits, 2^63 does not.
  let v: i64 = 0;
  for (let j = 0; j < n; j++) {
    const d = <i64>(s.charCodeAt(start + j) - 0x30);
    if (v < (i64.MIN_VALUE + d) / 10) return new ParsedInt(false, 0);
    v = v * 10 - d;
  }
  if (!neg) {
    if (v == i64.MIN_VALUE) return new ParsedInt(false, 0);
    v = -v;
  }
  return new ParsedInt(true, v);
}
