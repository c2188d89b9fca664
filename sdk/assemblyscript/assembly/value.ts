// SQL values and query results, as they cross the ABI (section 4).

import { Tag } from "./abi";
import { encode } from "./utf8";

/** Kind is the type of a Value; its numbers are the ABI's value tags. */
export enum Kind {
  NULL = Tag.NULL,
  INT = Tag.INT64,
  FLOAT = Tag.FLOAT64,
  TEXT = Tag.TEXT,
  BLOB = Tag.BLOB,
}

const KIND_NAMES: string[] = ["null", "int", "float", "text", "blob"];

/**
 * Value is one SQL parameter or result value: NULL, a 64-bit integer, a
 * 64-bit float, UTF-8 text or a blob. Build parameters with Value.int(7),
 * Value.text("k"), and so on.
 */
export class Value {
  private constructor(
    /** kind is the value's type. */
    readonly kind: Kind,
    private i: i64 = 0,
    private f: f64 = 0,
    private s: string | null = null,
    private b: Uint8Array | null = null,
  ) {}

  /** Value.null returns NULL. */
  static null(): Value {
    return new Value(Kind.NULL);
  }

  /** Value.int returns a 64-bit integer. */
  static int(n: i64): Value {
    return new Value(Kind.INT, n);
  }

  /** Value.bool returns 1 or 0 as an integer (ABI.md section 6 stores booleans so). */
  static bool(v: bool): Value {
    return new Value(Kind.INT, v ? 1 : 0);
  }

  /** Value.float returns a 64-bit float. */
  static float(x: f64): Value {
    return new Value(Kind.FLOAT, 0, x);
  }

  /** Value.text returns text; it goes to the host as UTF-8. */
  static text(s: string): Value {
    return new Value(Kind.TEXT, 0, 0, s);
  }

  /** Value.blob returns a blob. The bytes are not copied. */
  static blob(b: Uint8Array): Value {
    return new Value(Kind.BLOB, 0, 0, null, b);
  }

  /** Value.textOrNull returns text, or NULL for null. */
  static textOrNull(s: string | null): Value {
    return s == null ? Value.null() : Value.text(s);
  }

  /** isNull reports whether the value is NULL. */
  get isNull(): bool {
    return this.kind == Kind.NULL;
  }

  /** kindName returns "null", "int", "float", "text" or "blob". */
  get kindName(): string {
    return KIND_NAMES[this.kind];
  }

  /** asInt returns an INT64 value. Aborts for another kind; check kind first. */
  asInt(): i64 {
    if (this.kind != Kind.INT) abort("Value.asInt on a " + this.kindName + " value");
    return this.i;
  }

  /** asFloat returns a FLOAT64 value, or an INT64 value converted. Aborts for another kind. */
  asFloat(): f64 {
    if (this.kind == Kind.INT) return <f64>this.i;
    if (this.kind != Kind.FLOAT) abort("Value.asFloat on a " + this.kindName + " value");
    return this.f;
  }

  /** asText returns a TEXT value. Aborts for another kind. */
  asText(): string {
    if (this.kind != Kind.TEXT) abort("Value.asText on a " + this.kindName + " value");
    return this.s!;
  }

  /** asBlob returns a BLOB value, or the UTF-8 bytes of a TEXT value. Aborts for another kind. */
  asBlob(): Uint8Array {
    if (this.kind == Kind.TEXT) return encode(this.s!);
    if (this.kind != Kind.BLOB) abort("Value.asBlob on a " + this.kindName + " value");
    return this.b!;
  }

  /** @internal The payloads, for the encoder. */
  @inline get rawInt(): i64 {
    return this.i;
  }

  /** @internal */
  @inline get rawFloat(): f64 {
    return this.f;
  }

  /** @internal */
  @inline get rawText(): string | null {
    return this.s;
  }

  /** @internal */
  @inline get rawBlob(): Uint8Array | null {
    return this.b;
  }
}

/**
 * Row is one row of Rows. Its getters take a column index or a column name
 * (the first column with that exact name).
 */
export class Row {
  constructor(
    /** columns are the result's column names. */
    readonly columns: string[],
    /** values are the row's values, in column order. */
    readonly values: Value[],
  ) {}

  /** index returns the position of column `name`, or -1. */
  index(name: string): i32 {
    return this.columns.indexOf(name);
  }

  /**
   * get returns the value of a column, by index (i32) or name (string).
   * Aborts when there is no such column.
   */
  get<C>(c: C): Value {
    let i: i32;
    if (isString<C>()) {
      // @ts-ignore: C is string here
      i = this.index(changetype<string>(c));
      if (i < 0) abort("Row.get: no column " + changetype<string>(c));
    } else if (isInteger<C>()) {
      // @ts-ignore: C is an integer here
      i = <i32>c;
      if (i < 0 || i >= this.values.length) abort("Row.get: no column " + i.toString());
    } else {
      ERROR("Row.get takes a column index or name");
      i = 0;
    }
    return this.values[i];
  }
}

/** Rows is the result of a query: column names, then rows of values. */
export class Rows {
  constructor(
    /** columns are the column names, in order. */
    readonly columns: string[],
    /** rows are the rows, each with one Value per column. */
    readonly rows: Row[],
  ) {}

  /** length returns the number of rows. */
  get length(): i32 {
    return this.rows.length;
  }

  /** row returns row `i`. Aborts when out of range. */
  row(i: i32): Row {
    return this.rows[i];
  }

  /** first returns the first row, or null when there are none. */
  first(): Row | null {
    return this.rows.length > 0 ? this.rows[0] : null;
  }
}
