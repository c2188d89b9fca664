// Test entry: the SDK's pure parts (no host imports) exported to
// sdk.test.mjs, which checks them against JavaScript's own conversions.

import { Json } from "../assembly/json/index";
import { formatFloat } from "../assembly/json/float";
import { parseDigits } from "../assembly/json/parsefloat";
import { codePoints, decode, decodeLossy, encode, isValid } from "../assembly/utf8";
import { decodeMap, decodeRows, decodeValues, encodeValues } from "../assembly/codec";
import { Value } from "../assembly/value";

export function fmtFloat(x: f64): string {
  return formatFloat(x);
}

/** Parses digits*10^exp10 and returns the double. */
export function parseDec(digits: string, exp10: i32): f64 {
  return parseDigits(digits, exp10);
}

/** Parses s as JSON; returns its compact form, or "ERR <message>". */
export function jsonRoundTrip(s: string): string {
  const r = Json.parse(s);
  return r.isErr ? "ERR " + r.error!.message : r.value.toString();
}

/** As jsonRoundTrip, from UTF-8 bytes. */
export function jsonRoundTripBytes(b: Uint8Array): string {
  const r = Json.parseBytes(b);
  return r.isErr ? "ERR " + r.error!.message : r.value.toString();
}

/** Decodes b strictly; "<invalid>" when it is not UTF-8. */
export function utf8Strict(b: Uint8Array): string {
  const s = decode(b);
  return s == null ? "<invalid>" : s;
}

export function utf8Lossy(b: Uint8Array): string {
  return decodeLossy(b);
}

export function utf8Valid(b: Uint8Array): bool {
  return isValid(b);
}

export function utf8Encode(s: string): Uint8Array {
  return encode(s);
}

export function countCodePoints(s: string): i32 {
  return codePoints(s);
}

/** Encodes the fixed value list of the Rust SDK's values_golden test. */
export function encodeGolden(): Uint8Array {
  return encodeValues([Value.null(), Value.int(-2), Value.text("é"), Value.blob(new Uint8Array(0))]);
}

/** Decodes a value list and describes it: "kind:value,..." or "ERR reason". */
export function describeValues(b: Uint8Array): string {
  const r = decodeValues(b);
  if (r.isErr) return "ERR " + r.error!.message;
  const parts = new Array<string>();
  const vals = r.value;
  for (let i = 0; i < vals.length; i++) parts.push(describe(vals[i]));
  return parts.join(",");
}

/** Encodes then decodes every kind, including the edge values of the conformance suite. */
export function valuesRoundTrip(): string {
  const vals: Value[] = [
    Value.null(), Value.int(I64.MIN_VALUE), Value.int(I64.MAX_VALUE), Value.float(-0.5),
    Value.float(Infinity), Value.float(-Infinity), Value.text(""), Value.text("héllo, 世界"),
    Value.blob(new Uint8Array(0)), Value.bool(true),
  ];
  return describeValues(encodeValues(vals));
}

export function describeRows(b: Uint8Array): string {
  const r = decodeRows(b);
  if (r.isErr) return "ERR " + r.error!.message;
  const rows = r.value;
  let out = rows.columns.join(",");
  for (let i = 0; i < rows.length; i++) {
    const row = rows.row(i);
    const parts = new Array<string>();
    for (let j = 0; j < row.values.length; j++) parts.push(describe(row.values[j]));
    out += "|" + parts.join(",");
  }
  return out;
}

export function describeMap(b: Uint8Array): string {
  const r = decodeMap(b.dataStart, b.length);
  if (r.isErr) return "ERR " + r.error!.message;
  const parts = new Array<string>();
  for (let i = 0; i < r.value.length; i++) parts.push(r.value[i].key + "=" + r.value[i].value);
  return parts.join(",");
}

function describe(v: Value): string {
  switch (v.kind) {
    case 0: return "null";
    case 1: return "int:" + v.asInt().toString();
    case 2: return "float:" + formatFloat(v.asFloat()) + (isFinite(v.asFloat()) ? "" : (v.asFloat() > 0 ? "+inf" : "-inf"));
    case 3: return "text:" + v.asText();
    default: {
      const b = v.asBlob();
      let s = "blob:";
      for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
      return s;
    }
  }
}
