// Unit tests of the SDK's pure parts (JSON, float conversions, UTF-8, the
// value codec), compiled from tests/exports.ts by `npm test`. Expected
// values come from the Rust SDK's tests, so both SDKs read and write the
// same bytes, and from JavaScript's own conversions, which are exact.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as sdk from "../build/test.js";

const enc = new TextEncoder();
const hex = (b) => Buffer.from(b).toString("hex");

// A seeded generator, so a failure reproduces.
function rng(seed) {
  let s = BigInt(seed);
  return () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return s;
  };
}

test("json round trip (Rust SDK cases)", () => {
  const cases = [
    ["null", "null"], [" true ", "true"], ["false", "false"], ["0", "0"], ["-0", "0"],
    ["-12", "-12"], ["9223372036854775807", "9223372036854775807"],
    ["-9223372036854775808", "-9223372036854775808"],
    ["9223372036854775808", "9223372036854776000"], ["1.0", "1"], ["1.5", "1.5"],
    ["-0.0", "-0"], ["1e2", "100"], ["1E+2", "100"], ["1e21", "1e+21"],
    ["1.5e300", "1.5e+300"], ["0.000001", "0.000001"], ["1e-7", "1e-7"], ["0.1", "0.1"],
    ['""', '""'], ['"a\\"b\\\\c\\/d"', '"a\\"b\\\\c/d"'], ['"\\b\\f\\n\\r\\t"', '"\\b\\f\\n\\r\\t"'],
    ['"\\u0001\\u001F"', '"\\u0001\\u001f"'], ['"\\u00e9\\u4e2d"', '"é中"'], ['"é中😀"', '"é中😀"'],
    ['"\\ud83d\\ude00"', '"😀"'], ['"\\ud83d"', '"\uFFFD"'], ['"\\ude00x"', '"\uFFFDx"'],
    ['"\\ud83dA"', '"\uFFFDA"'], ['"\\ud83d\\u0041"', '"\uFFFDA"'],
    ['"\\ud83d\\ud83d\\ude00"', '"\uFFFD😀"'], ['"\u2028<&>"', '"\u2028<&>"'],
    ["[]", "[]"], ['[1, [2, {}], "x"]', '[1,[2,{}],"x"]'], ["{}", "{}"],
    ['{"b":1,"a":{"d":[],"c":null}}', '{"a":{"c":null,"d":[]},"b":1}'],
    ['{"k":1,"k":2}', '{"k":2}'], [' \t\r\n{ "a" : [ 1 , 2 ] } \n', '{"a":[1,2]}'],
    // Keys sort by code point (UTF-8 byte order), not by UTF-16 unit.
    ['{"\uffff":1,"😀":2,"a":3}', '{"a":3,"\uffff":1,"😀":2}'],
    ["1e-400", "0"], ["-1e-400", "-0"], ["123456789012345678901234567890", "1.2345678901234568e+29"],
    ["0.1e1", "1"], ["100e-2", "1"], ["2.5E-3", "0.0025"], ["1e20", "100000000000000000000"],
  ];
  for (const [input, want] of cases) assert.equal(sdk.jsonRoundTrip(input), want, input);
});

test("json errors (Rust SDK cases)", () => {
  const cases = [
    ["", 0, "unexpected end of input"], ["   ", 3, "unexpected end of input"],
    ["nul", 0, "invalid literal"], ["True", 0, "expected a value"], ["01", 2, "invalid number"],
    ["-", 1, "invalid number"], ["1.", 2, "invalid number"], [".5", 0, "expected a value"],
    ["1e", 2, "invalid number"], ["+1", 0, "expected a value"], ["1e400", 0, "number out of range"],
    ["NaN", 0, "expected a value"], ["[1,]", 3, "expected a value"], ["[1 2]", 3, "expected ',' or ']'"],
    ['{"a" 1}', 5, "expected ':'"], ["{a:1}", 1, "expected a string key"],
    ['{"a":1,}', 7, "expected a string key"], ['{"a":1', 6, "expected ',' or '}'"],
    ['"abc', 4, "unterminated string"], ['"a\nb"', 2, "control character in string"],
    ['"\\x"', 2, "invalid escape"], ['"\\u12"', 3, "invalid \\u escape"],
    ['"\\u12G4"', 3, "invalid \\u escape"], ["1 2", 2, "unexpected data after the value"],
    ["{} x", 3, "unexpected data after the value"],
    // Offsets count UTF-8 bytes.
    ['"é" x', 5, "unexpected data after the value"], ['["😀",]', 8, "expected a value"],
    ["-1e99999999999999999999", 0, "number out of range"],
  ];
  for (const [input, offset, reason] of cases) {
    assert.equal(sdk.jsonRoundTrip(input), `ERR invalid JSON at byte ${offset}: ${reason}`, JSON.stringify(input));
  }
  assert.equal(sdk.jsonRoundTripBytes(Uint8Array.from([0x22, 0x61, 0xff, 0x22])), "ERR invalid JSON at byte 2: invalid UTF-8");
  assert.equal(sdk.jsonRoundTripBytes(enc.encode("[1]")), "[1]");
});

test("json strings match JSON.stringify", () => {
  const next = rng(4);
  const pool = ["a", "b", " ", "\"", "\\", "\n", "\t", "\u0001", "\u001f", "\u007f", "é", "世", "😀", "\u2028", "/"];
  for (let i = 0; i < 5000; i++) {
    const n = Number(next() % 30n);
    let str = "";
    for (let j = 0; j < n; j++) {
      const r = next();
      str += (r & 3n) != 0n ? "x" : pool[Number((r >> 2n) % BigInt(pool.length))];
    }
    const doc = JSON.stringify({ [str]: [str, { k: str }] });
    assert.equal(sdk.jsonRoundTrip(doc), doc, doc);
  }
});

test("json depth limit", () => {
  const ok = "[".repeat(128) + "]".repeat(128);
  assert.equal(sdk.jsonRoundTrip(ok), ok);
  assert.match(sdk.jsonRoundTrip("[".repeat(129) + "]".repeat(129)), /nesting too deep$/);
  assert.match(sdk.jsonRoundTrip('{"a":'.repeat(129)), /nesting too deep$/);
});

// JavaScript prints a double with the shortest digits that read back, in the
// same notation as Rust's warden::json and Go, with two differences: -0 is
// "0" in JS, and when two shortest candidates are equally close JS takes the
// even last digit where Rust (and this SDK) round up.
function jsFormat(x) {
  return Object.is(x, -0) ? "-0" : String(x);
}

function assertFormat(x, what) {
  const got = sdk.fmtFloat(x);
  const js = jsFormat(x);
  if (got === js) return;
  // A tie: same length, reads back as x, one unit in the last digit further from zero.
  const last = (s) => Number(s.replace(/e.*/, "").slice(-1));
  assert.ok(got.length === js.length && Number(got) === x && last(got) === last(js) + 1,
    `${what}: got ${got}, JavaScript ${js}`);
}

test("formatFloat is shortest and matches JavaScript", () => {
  const special = [0, -0, 0.1, 1 / 3, 123456.789, 5e-324, 1.7976931348623157e308, 1e20, 1e21,
    1e-6, 9.999e-7, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 1023, 2 ** -1022, 2 ** -1074 * 3,
    4.35, 0.3, 100, 1e23, 9007199254740993, 2.2250738585072014e-308, 2.225073858507201e-308];
  for (const x of special) assertFormat(x, `${x}`);
  assert.equal(sdk.fmtFloat(NaN), "null");
  assert.equal(sdk.fmtFloat(Infinity), "null");
  const next = rng(1);
  const view = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 20000; i++) {
    view.setBigUint64(0, next());
    const x = view.getFloat64(0);
    if (!Number.isFinite(x)) continue;
    assertFormat(x, `bits ${view.getBigUint64(0).toString(16)}`);
  }
  // Round numbers and short decimals, where ties and powers of two live.
  for (let i = 0; i < 5000; i++) {
    const x = Number(`${Number(next() % 100000n)}e${Number(next() % 600n) - 300}`);
    assertFormat(x, `${x}`);
  }
  // The tie above, as Rust 1.63 prints it.
  assert.equal(sdk.fmtFloat(1888570120608320.25), "1888570120608320.3");
});

test("parseDigits rounds correctly", () => {
  const next = rng(2);
  const check = (digits, exp) => {
    const want = Number(`${digits}e${exp}`);
    const got = sdk.parseDec(digits, exp);
    assert.ok(Object.is(got, want), `${digits}e${exp}: got ${got}, want ${want}`);
  };
  // Halfway cases and the edges of the range.
  check("9007199254740993", 0);
  check("9007199254740995", 0);
  check("17976931348623157", 292);
  check("17976931348623158", 292);
  check("17976931348623159", 292);
  check("24703282292062327", -340);
  check("24703282292062328", -340);
  check("2470328229206232720882538", -348);
  check("1" + "0".repeat(400), -400);
  check("7" + "0".repeat(900) + "1", -901);
  check("0000123", -2);
  check("22250738585072011", -324);
  for (let i = 0; i < 5000; i++) {
    const len = 1 + Number(next() % 40n);
    let d = "";
    for (let j = 0; j < len; j++) d += String(Number(next() % 10n));
    check(d, Number(next() % 700n) - 350);
  }
  // Every double printed with 17 digits reads back as itself.
  const view = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 5000; i++) {
    view.setBigUint64(0, next() & 0x7fffffffffffffffn);
    const x = view.getFloat64(0);
    if (!Number.isFinite(x)) continue;
    const [m, e] = x.toExponential(16).split("e");
    check(m.replace(".", ""), Number(e) - 16);
  }
});

test("utf8 decode matches TextDecoder", () => {
  const lossy = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const next = rng(3);
  const interesting = [0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef,
    0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0, 0x8f, 0x90];
  for (let i = 0; i < 20000; i++) {
    // Short inputs of any bytes, and longer ones that are mostly ASCII (the 8-byte fast path).
    const long = i % 2 == 1;
    const n = Number(next() % (long ? 40n : 8n));
    const b = new Uint8Array(n);
    for (let j = 0; j < n; j++) {
      const r = next();
      if (long && (r & 7n) != 0n) b[j] = Number((r >> 8n) & 0x7fn);
      else b[j] = (r & 1n) ? interesting[Number((r >> 1n) % BigInt(interesting.length))] : Number((r >> 8n) & 0xffn);
    }
    assert.equal(sdk.utf8Lossy(b), lossy.decode(b), hex(b));
    let want;
    try { want = strict.decode(b); } catch { want = "<invalid>"; }
    assert.equal(sdk.utf8Strict(b), want, hex(b));
    assert.equal(sdk.utf8Valid(b), want !== "<invalid>", hex(b));
  }
  assert.equal(hex(sdk.utf8Encode("é\ud800x😀")), hex(enc.encode("é\ufffdx😀")));
  // TextEncoder also writes U+FFFD for unpaired surrogates.
  const units = [0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xffff];
  for (let i = 0; i < 20000; i++) {
    const n = Number(next() % 24n);
    let str = "";
    for (let j = 0; j < n; j++) {
      const r = next();
      str += String.fromCharCode((r & 3n) != 0n ? Number((r >> 8n) & 0x7fn) : units[Number((r >> 2n) % BigInt(units.length))]);
    }
    assert.equal(hex(sdk.utf8Encode(str)), hex(enc.encode(str)), JSON.stringify(str));
  }
  assert.equal(sdk.countCodePoints("héllo, 世界😀"), 10);
  assert.equal(sdk.countCodePoints("\ud800x"), 2);
});

test("value codec (Rust SDK golden)", () => {
  assert.equal(hex(sdk.encodeGolden()), "0400000000" + "01feffffffffffffff" + "0302000000c3a9" + "0400000000");
  assert.equal(sdk.valuesRoundTrip(),
    "null,int:-9223372036854775808,int:9223372036854775807,float:-0.5,float:null+inf,float:null-inf," +
    "text:,text:héllo, 世界,blob:,int:1");
  assert.equal(sdk.describeValues(new Uint8Array(0)), "");
  const errs = [
    ["0100", "truncated"], ["ffffffff00", "count exceeds remaining bytes"], ["01000000010000", "truncated"],
    ["01000000030500000061", "truncated"], ["0100000009", "unknown value tag"], ["010000000000", "trailing bytes"],
  ];
  for (const [h, why] of errs) assert.equal(sdk.describeValues(Buffer.from(h, "hex")), "ERR " + why, h);
});

test("rows and maps", () => {
  // Columns k, v; rows ("a", 1) and ("b", NULL).
  const rows = "02000000" + "010000006b" + "0100000076" + "02000000" +
    "030100000061" + "010100000000000000" + "030100000062" + "00";
  assert.equal(sdk.describeRows(Buffer.from(rows, "hex")), "k,v|text:a,int:1|text:b,null");
  assert.equal(sdk.describeRows(Buffer.from("01000000010000006b00000000", "hex")), "k");
  assert.equal(sdk.describeRows(new Uint8Array(0)), "ERR truncated");
  assert.equal(sdk.describeRows(Buffer.from(rows + "00", "hex")), "ERR trailing bytes");
  const map = "03000000" + "06000000416363657074" + "0100000061" + "06000000416363657074" + "0100000062" +
    "07000000582d456d707479" + "00000000";
  assert.equal(sdk.describeMap(Buffer.from(map, "hex")), "Accept=a,Accept=b,X-Empty=");
  assert.equal(sdk.describeMap(Buffer.from("00000000", "hex")), "");
  assert.equal(sdk.describeMap(Buffer.from("0100000000000000", "hex")), "ERR count exceeds remaining bytes");
});

// Against the Rust SDK itself: tests/oracle.rs prints and parses numbers as
// warden::json does. Skipped without Debian's Rust (WARDEN_RUSTC overrides).
test("numbers match the Rust SDK", async (t) => {
  const { execFileSync } = await import("node:child_process");
  const { existsSync, mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const rustc = process.env.WARDEN_RUSTC || "/usr/bin/rustc";
  if (!existsSync(rustc)) {
    t.skip(`${rustc} not found`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "warden-oracle-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, "oracle");
  execFileSync(rustc, ["-O", "--edition", "2021", new URL("oracle.rs", import.meta.url).pathname, "-o", bin]);
  const next = rng(5);
  const view = new DataView(new ArrayBuffer(8));
  const bits = [];
  for (let i = 0; i < 60000; i++) {
    let b = next();
    if (i % 4 == 1) b = (b & 0xfff0000000000000n) | (next() & 0xffn); // few mantissa bits
    if (i % 4 == 2) b = ((1006n + next() % 46n) << 52n) | (b & 0xfffffffffffffn); // 1e-5..2^53
    if (i % 4 == 3) { // short decimals
      view.setFloat64(0, Number(`${next() % 10n ** (1n + next() % 16n)}e${Number(next() % 60n) - 35}`));
      b = view.getBigUint64(0);
    }
    if (((b >> 52n) & 0x7ffn) != 0x7ffn) bits.push(b);
  }
  const decimals = [];
  for (let i = 0; i < 20000; i++) {
    const len = 1 + Number(next() % 25n);
    let d = "";
    for (let j = 0; j < len; j++) d += String(Number(next() % 10n));
    decimals.push([d, Number(next() % 660n) - 340]);
  }
  const input = bits.map((b) => b.toString(16)).join("\n") + "\n" +
    decimals.map(([d, e]) => `P ${d}e${e}`).join("\n") + "\n";
  const want = execFileSync(bin, { input, maxBuffer: 1 << 26 }).toString().split("\n");
  bits.forEach((b, i) => {
    view.setBigUint64(0, b);
    assert.equal(sdk.fmtFloat(view.getFloat64(0)), want[i], `bits ${b.toString(16)}`);
  });
  decimals.forEach(([d, e], i) => {
    view.setFloat64(0, sdk.parseDec(d, e));
    assert.equal(view.getBigUint64(0).toString(16).padStart(16, "0"), want[bits.length + i], `${d}e${e}`);
  });
});
