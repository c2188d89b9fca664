// Binary encodings of ABI.md section 4: value lists (4.1), query results
// (4.2) and maps (4.3). All integers are little-endian.

import { Tag } from "./abi";
import { Kind, Row, Rows, Value } from "./value";
import { byteLength, decodeRange, encodeInto } from "./utf8";
import { Code, Result, err, ok } from "./error";

/** KeyValue is one entry of a context map: a header, query parameter, session or environment variable. */
export class KeyValue {
  constructor(readonly key: string, readonly value: string) {}
}

/**
 * encodeValues encodes a value list: count:u32, then each value. An empty
 * list encodes to an empty buffer, which the host reads as "no parameters".
 */
export function encodeValues(vals: Value[]): Uint8Array {
  const n = vals.length;
  if (n == 0) return new Uint8Array(0);
  let size = 4;
  for (let i = 0; i < n; i++) {
    const v = vals[i];
    switch (v.kind) {
      case Kind.NULL: size += 1; break;
      case Kind.INT:
      case Kind.FLOAT: size += 9; break;
      case Kind.TEXT: size += 5 + byteLength(v.rawText!); break;
      default: size += 5 + v.rawBlob!.length;
    }
  }
  const out = new Uint8Array(size);
  let p = out.dataStart;
  store<u32>(p, <u32>n);
  p += 4;
  for (let i = 0; i < n; i++) {
    const v = vals[i];
    store<u8>(p++, <u8>v.kind);
    switch (v.kind) {
      case Kind.NULL: break;
      case Kind.INT: store<i64>(p, v.rawInt); p += 8; break;
      case Kind.FLOAT: store<f64>(p, v.rawFloat); p += 8; break;
      case Kind.TEXT: {
        const s = v.rawText!;
        const len = encodeInto(s, p + 4);
        store<u32>(p, <u32>len);
        p += 4 + len;
        break;
      }
      default: {
        const b = v.rawBlob!;
        store<u32>(p, <u32>b.length);
        memory.copy(p + 4, b.dataStart, <usize>b.length);
        p += 4 + <usize>b.length;
      }
    }
  }
  return out;
}

/** A cursor over an encoded buffer; `error` is set at the first problem. */
export class Cursor {
  error: string | null = null;
  constructor(private p: usize, private end: usize) {}

  get left(): usize {
    return this.end - this.p;
  }

  fail(why: string): bool {
    if (this.error == null) this.error = why;
    return false;
  }

  has(n: usize): bool {
    return this.error == null && (n <= this.left || this.fail("truncated"));
  }

  u8(): u32 {
    if (!this.has(1)) return 0;
    return <u32>load<u8>(this.p++);
  }

  u32(): u32 {
    if (!this.has(4)) return 0;
    const v = load<u32>(this.p);
    this.p += 4;
    return v;
  }

  u64(): u64 {
    if (!this.has(8)) return 0;
    const v = load<u64>(this.p);
    this.p += 8;
    return v;
  }

  /** Reads a count, refusing one that cannot fit when each item takes at least `min` bytes. */
  count(min: usize): i32 {
    const n = this.u32();
    if (this.error != null) return 0;
    if (<u64>n * <u64>min > <u64>this.left) {
      this.fail("count exceeds remaining bytes");
      return 0;
    }
    return <i32>n;
  }

  bytes(): Uint8Array {
    const n = <usize>this.u32();
    if (!this.has(n)) return new Uint8Array(0);
    const out = new Uint8Array(<i32>n);
    memory.copy(out.dataStart, this.p, n);
    this.p += n;
    return out;
  }

  // TEXT that is not UTF-8 is decoded lossily rather than failing a whole result.
  string(): string {
    const n = <usize>this.u32();
    if (!this.has(n)) return "";
    const s = decodeRange(this.p, <i32>n, true)!;
    this.p += n;
    return s;
  }

  value(): Value {
    const t = this.u8();
    switch (t) {
      case Tag.NULL: return Value.null();
      case Tag.INT64: return Value.int(<i64>this.u64());
      case Tag.FLOAT64: return Value.float(reinterpret<f64>(this.u64()));
      case Tag.TEXT: return Value.text(this.string());
      case Tag.BLOB: return Value.blob(this.bytes());
    }
    this.fail("unknown value tag");
    return Value.null();
  }

  /** Reads a map's pairs, in order. */
  map(): KeyValue[] {
    const n = this.count(8);
    const pairs = new Array<KeyValue>();
    for (let i = 0; i < n && this.error == null; i++) {
      const k = this.string();
      pairs.push(new KeyValue(k, this.string()));
    }
    return pairs;
  }

  finish(): void {
    if (this.error == null && this.p != this.end) this.fail("trailing bytes");
  }
}

/**
 * decodeValues decodes a value list; an empty buffer is an empty list. A
 * bad encoding fails with INTERNAL and the reason, such as "truncated".
 */
export function decodeValues(b: Uint8Array): Result<Value[]> {
  const vals = new Array<Value>();
  if (b.length == 0) return ok<Value[]>(vals);
  const r = new Cursor(b.dataStart, b.dataStart + <usize>b.length);
  const n = r.count(1);
  for (let i = 0; i < n && r.error == null; i++) vals.push(r.value());
  r.finish();
  return done<Value[]>(r, vals);
}

/** decodeRows decodes a query result: ncols:u32, names, nrows:u32, values row by row; errors as decodeValues. */
export function decodeRows(b: Uint8Array): Result<Rows> {
  const r = new Cursor(b.dataStart, b.dataStart + <usize>b.length);
  const ncols = r.count(4);
  const columns = new Array<string>();
  for (let i = 0; i < ncols && r.error == null; i++) columns.push(r.string());
  const nrows = r.count(ncols > 0 ? <usize>ncols : 1);
  const rows = new Array<Row>();
  for (let j = 0; j < nrows && r.error == null; j++) {
    const vals = new Array<Value>(ncols);
    for (let i = 0; i < ncols; i++) vals[i] = r.value();
    rows.push(new Row(columns, vals));
  }
  r.finish();
  return done<Rows>(r, new Rows(columns, rows));
}

/** decodeMap decodes a map at (ptr, len) into its pairs, in order; a repeated key appears once per value. Errors as decodeValues. */
export function decodeMap(ptr: usize, len: i32): Result<KeyValue[]> {
  const r = new Cursor(ptr, ptr + <usize>len);
  const pairs = r.map();
  r.finish();
  return done<KeyValue[]>(r, pairs);
}

/** done returns `v`, or INTERNAL with the cursor's error. */
export function done<T>(r: Cursor, v: T): Result<T> {
  const e = r.error;
  return e == null ? ok<T>(v) : err<T>(Code.INTERNAL, e);
}
