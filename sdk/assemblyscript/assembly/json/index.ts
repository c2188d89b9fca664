// A small JSON parser and compact serializer, so that plugins can read and
// write JSON payloads with no other package.
//
// It reads and writes exactly as the Rust SDK's warden::json does, so the
// same plugin gives the same bytes in either language: objects keep the
// last of repeated keys and print with sorted keys (as Go's encoding/json
// prints a map), integers that fit in i64 stay exact, other numbers are
// doubles printed in their shortest form (1.5, 1e-7, 1e+21), and nesting is
// limited to MAX_DEPTH.

import { Code, Result, RpcError } from "../error";
import { validUpTo, decodeRange } from "../utf8";
import { parse } from "./parse";
import { toJson } from "./write";

export { writeString } from "./write";
export { formatFloat } from "./float";

/** MAX_DEPTH bounds the nesting of arrays and objects that Json.parse accepts. */
export const MAX_DEPTH = 128;

/** JsonKind is the type of a Json value. */
export enum JsonKind {
  NULL,
  BOOL,
  /** A number without fraction or exponent that fits in i64. */
  INT,
  /** Any other number. */
  FLOAT,
  STRING,
  ARRAY,
  OBJECT,
}

/**
 * Json is a JSON value.
 *
 * ```ts
 * const v = Json.parse('{"b":[1,2.5,"\\u00e9"],"a":null}');
 * if (v.isErr) return v.forward<string>();   // INVALID_ARGUMENT, "invalid JSON at byte N: ..."
 * const b = v.value.get("b");                // Json | null
 * v.value.toString();                        // {"a":null,"b":[1,2.5,"é"]}
 * Json.object().set("greeting", Json.str("hi")).toString(); // {"greeting":"hi"}
 * ```
 */
export class Json {
  private constructor(
    /** kind is the value's type. */
    readonly kind: JsonKind,
    private _i: i64 = 0,
    private _f: f64 = 0,
    private _s: string | null = null,
    private _a: Json[] | null = null,
    private _o: Map<string, Json> | null = null,
  ) {}

  /**
   * parse parses exactly one JSON value, with optional whitespace around
   * it. A syntax error, a number out of the double range or nesting deeper
   * than MAX_DEPTH fails with INVALID_ARGUMENT and
   * "invalid JSON at byte <offset>: <reason>", the offset counted in UTF-8.
   */
  static parse(s: string): Result<Json> {
    return parse(s);
  }

  /** parseBytes parses UTF-8 bytes, as parse; invalid UTF-8 fails the same way. */
  static parseBytes(b: Uint8Array): Result<Json> {
    const n = validUpTo(b);
    if (n != b.length) return Result.fail<Json>(syntaxError(n, "invalid UTF-8"));
    return parse(decodeRange(b.dataStart, b.length, false)!);
  }

  /** Json.null returns null. */
  static null(): Json {
    return new Json(JsonKind.NULL);
  }

  /** Json.bool returns true or false. */
  static bool(v: bool): Json {
    return new Json(JsonKind.BOOL, v ? 1 : 0);
  }

  /** Json.int returns an exact integer. */
  static int(n: i64): Json {
    return new Json(JsonKind.INT, n);
  }

  /** Json.float returns a number; NaN and infinities print as null. */
  static float(x: f64): Json {
    return new Json(JsonKind.FLOAT, 0, x);
  }

  /** Json.str returns a string. */
  static str(s: string): Json {
    return new Json(JsonKind.STRING, 0, 0, s);
  }

  /** Json.strOrNull returns a string, or null for null. */
  static strOrNull(s: string | null): Json {
    return s == null ? Json.null() : Json.str(s);
  }

  /** Json.array returns an array of `items` (not copied). */
  static array(items: Json[] = []): Json {
    return new Json(JsonKind.ARRAY, 0, 0, null, items);
  }

  /** Json.object returns an empty object; add fields with set. */
  static object(): Json {
    return new Json(JsonKind.OBJECT, 0, 0, null, null, new Map<string, Json>());
  }

  /** set sets field `key` of an object (a later value wins) and returns the object. Aborts on another kind. */
  set(key: string, v: Json): Json {
    if (this.kind != JsonKind.OBJECT) abort("Json.set on a non-object");
    this._o!.set(key, v);
    return this;
  }

  /** push appends `v` to an array and returns the array. Aborts on another kind. */
  push(v: Json): Json {
    if (this.kind != JsonKind.ARRAY) abort("Json.push on a non-array");
    this._a!.push(v);
    return this;
  }

  /** get returns field `key` of an object, or null (also for another kind). */
  get(key: string): Json | null {
    const o = this._o;
    if (o == null || !o.has(key)) return null;
    return o.get(key);
  }

  /** at returns element `i` of an array, or null. */
  at(i: i32): Json | null {
    const a = this._a;
    if (a == null || i < 0 || i >= a.length) return null;
    return a[i];
  }

  /** isNull reports whether the value is null. */
  get isNull(): bool {
    return this.kind == JsonKind.NULL;
  }

  /** isNumber reports whether the value is a number (INT or FLOAT). */
  get isNumber(): bool {
    return this.kind == JsonKind.INT || this.kind == JsonKind.FLOAT;
  }

  /** asBool returns a boolean, or `fallback` for another kind. */
  asBool(fallback: bool = false): bool {
    return this.kind == JsonKind.BOOL ? this._i != 0 : fallback;
  }

  /** asInt returns an integer, or a float with an exact i64 value, or `fallback`. */
  asInt(fallback: i64 = 0): i64 {
    if (this.kind == JsonKind.INT) return this._i;
    const x = this._f;
    // -2^63 <= x < 2^63 keeps the conversion exact.
    if (this.kind == JsonKind.FLOAT && Math.floor(x) == x && x >= -9223372036854775808.0 && x < 9223372036854775808.0) {
      return <i64>x;
    }
    return fallback;
  }

  /** asFloat returns any number as a double, or `fallback`. */
  asFloat(fallback: f64 = NaN): f64 {
    if (this.kind == JsonKind.INT) return <f64>this._i;
    return this.kind == JsonKind.FLOAT ? this._f : fallback;
  }

  /** asString returns a string, or null for another kind. */
  asString(): string | null {
    return this._s;
  }

  /** asArray returns an array's elements, or null. */
  asArray(): Json[] | null {
    return this._a;
  }

  /** asObject returns an object's fields (in insertion order; printed sorted), or null. */
  asObject(): Map<string, Json> | null {
    return this._o;
  }

  /** toString returns compact JSON: no whitespace, object keys sorted by code point. */
  toString(): string {
    return toJson(this);
  }
}

/** The error of a JSON syntax error at UTF-8 byte `offset`. */
export function syntaxError(offset: i32, reason: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, "invalid JSON at byte " + offset.toString() + ": " + reason);
}
