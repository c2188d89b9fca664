// UTF-8, the encoding of every string on the wire (ABI.md 1). AssemblyScript
// strings are UTF-16, and its String.UTF8.decode neither validates nor
// replaces invalid input, so the SDK converts with its own functions.

// The loops below handle ASCII 8 bytes or 4 UTF-16 units at a time: each
// loop iteration costs a deadline check under the host (see README), so
// fewer, wider iterations matter more than usual.
const HIGH_BYTES: u64 = 0x8080808080808080;
const NON_ASCII_UNITS: u64 = 0xff80ff80ff80ff80;

/**
 * encode returns the UTF-8 bytes of `s`. An unpaired surrogate, which a
 * UTF-16 string may hold but UTF-8 cannot, becomes U+FFFD.
 */
export function encode(s: string): Uint8Array {
  const out = new Uint8Array(byteLength(s));
  encodeInto(s, out.dataStart);
  return out;
}

/** byteLength returns the length of `s` in UTF-8, as encode writes it. */
export function byteLength(s: string): i32 {
  const p = changetype<usize>(s);
  const n = s.length;
  let size = 0;
  let i = 0;
  while (i < n) {
    if (i + 4 <= n && (load<u64>(p + (<usize>i << 1)) & NON_ASCII_UNITS) == 0) {
      size += 4;
      i += 4;
      continue;
    }
    const c = <u32>load<u16>(p + (<usize>i << 1));
    if (c < 0x80) size += 1;
    else if (c < 0x800) size += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n && isLow(<u32>load<u16>(p + (<usize>(i + 1) << 1)))) {
      size += 4;
      i++;
    } else size += 3; // including an unpaired surrogate, as U+FFFD
    i++;
  }
  return size;
}

/** encodeInto writes `s` as UTF-8 at dst, which has room for byteLength(s) bytes, and returns the length. */
// @ts-ignore: decorator
@unsafe
export function encodeInto(s: string, dst: usize): usize {
  const p = changetype<usize>(s);
  const n = s.length;
  let o = dst;
  let i = 0;
  while (i < n) {
    if (i + 4 <= n) {
      const w = load<u64>(p + (<usize>i << 1));
      if ((w & NON_ASCII_UNITS) == 0) {
        // Four units below 0x80 to four bytes.
        let t = (w | (w >> 8)) & 0x0000ffff0000ffff;
        t = (t | (t >> 16)) & 0xffffffff;
        store<u32>(o, <u32>t);
        o += 4;
        i += 4;
        continue;
      }
    }
    let c = <u32>load<u16>(p + (<usize>i << 1));
    i++;
    if (c < 0x80) {
      store<u8>(o++, <u8>c);
      continue;
    }
    if (c < 0x800) {
      store<u8>(o, <u8>(0xc0 | (c >> 6)));
      store<u8>(o, <u8>(0x80 | (c & 0x3f)), 1);
      o += 2;
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) {
      const d = i < n ? <u32>load<u16>(p + (<usize>i << 1)) : 0;
      if (c < 0xdc00 && isLow(d)) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        store<u8>(o, <u8>(0xf0 | (c >> 18)));
        store<u8>(o, <u8>(0x80 | ((c >> 12) & 0x3f)), 1);
        store<u8>(o, <u8>(0x80 | ((c >> 6) & 0x3f)), 2);
        store<u8>(o, <u8>(0x80 | (c & 0x3f)), 3);
        o += 4;
        continue;
      }
      c = 0xfffd;
    }
    store<u8>(o, <u8>(0xe0 | (c >> 12)));
    store<u8>(o, <u8>(0x80 | ((c >> 6) & 0x3f)), 1);
    store<u8>(o, <u8>(0x80 | (c & 0x3f)), 2);
    o += 3;
  }
  return o - dst;
}

// @ts-ignore: decorator
@inline
function isLow(c: u32): bool {
  return c >= 0xdc00 && c < 0xe000;
}

/** Spreads 4 bytes into 4 UTF-16 units (the low byte first). */
// @ts-ignore: decorator
@inline
function widen(x: u32): u64 {
  let t = <u64>x;
  t = (t | (t << 16)) & 0x0000ffff0000ffff;
  return (t | (t << 8)) & 0x00ff00ff00ff00ff;
}

/** isValid reports whether `b` is valid UTF-8. */
export function isValid(b: Uint8Array): bool {
  return validPrefix(b.dataStart, b.length) == b.length;
}

/** validUpTo returns the length of the longest prefix of `b` that is valid UTF-8. */
export function validUpTo(b: Uint8Array): i32 {
  return validPrefix(b.dataStart, b.length);
}

/**
 * decode returns `b` as a string, or null when it is not valid UTF-8. Use
 * decodeLossy to replace invalid sequences instead.
 */
export function decode(b: Uint8Array): string | null {
  return decodeRange(b.dataStart, b.length, false);
}

/**
 * decodeLossy returns `b` as a string, replacing each maximal invalid
 * subsequence with U+FFFD, as Go's strings.ToValidUTF8 replaces each bad
 * byte run and Rust's String::from_utf8_lossy does.
 */
export function decodeLossy(b: Uint8Array): string {
  return decodeRange(b.dataStart, b.length, true)!;
}

/** Decodes len bytes at ptr; see decode and decodeLossy. */
// @ts-ignore: decorator
@unsafe
export function decodeRange(ptr: usize, len: i32, lossy: bool): string | null {
  // One UTF-16 unit per byte is the most a UTF-8 input can need; the
  // string is allocated at that size and shrunk at the end, as
  // String.UTF8.decode does.
  const str = __new(<usize>len << 1, idof<string>());
  let o: usize = str;
  let i = 0;
  while (i < len) {
    if (i + 8 <= len) {
      const w = load<u64>(ptr + i);
      if ((w & HIGH_BYTES) == 0) {
        store<u64>(o, widen(<u32>w));
        store<u64>(o, widen(<u32>(w >> 32)), 8);
        o += 16;
        i += 8;
        continue;
      }
    }
    const c0 = <u32>load<u8>(ptr + i);
    if (c0 < 0x80) {
      // ASCII runs are the common case: copy them without further checks.
      store<u16>(o, <u16>c0);
      o += 2;
      i++;
      continue;
    }
    const n = seqLen(ptr + i, len - i);
    if (n <= 0) {
      if (!lossy) return null;
      store<u16>(o, 0xfffd);
      o += 2;
      i += n == 0 ? 1 : -n;
      continue;
    }
    let cp: u32;
    if (n == 2) {
      cp = (c0 & 0x1f) << 6 | (<u32>load<u8>(ptr + i + 1) & 0x3f);
    } else if (n == 3) {
      cp = (c0 & 0x0f) << 12 | (<u32>load<u8>(ptr + i + 1) & 0x3f) << 6 | (<u32>load<u8>(ptr + i + 2) & 0x3f);
    } else {
      cp = (c0 & 0x07) << 18 | (<u32>load<u8>(ptr + i + 1) & 0x3f) << 12 |
        (<u32>load<u8>(ptr + i + 2) & 0x3f) << 6 | (<u32>load<u8>(ptr + i + 3) & 0x3f);
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      store<u32>(o, (0xd800 | (cp >> 10)) | (0xdc00 | (cp & 0x3ff)) << 16);
      o += 4;
    } else {
      store<u16>(o, <u16>cp);
      o += 2;
    }
    i += n;
  }
  return changetype<string>(__renew(str, o - str));
}

/** Returns how many bytes at ptr are valid UTF-8 from the start. */
// @ts-ignore: decorator
@unsafe
function validPrefix(ptr: usize, len: i32): i32 {
  let i = 0;
  while (i < len) {
    if (i + 8 <= len && (load<u64>(ptr + i) & HIGH_BYTES) == 0) {
      i += 8;
      continue;
    }
    if (load<u8>(ptr + i) < 0x80) {
      i++;
      continue;
    }
    const n = seqLen(ptr + i, len - i);
    if (n <= 0) return i;
    i += n;
  }
  return i;
}

/**
 * Checks the multi-byte sequence at ptr (avail bytes left, first byte
 * >= 0x80). Returns its length 2..4 when it is valid; otherwise minus the
 * length of its maximal invalid subpart (Unicode 15, section 3.9), which is
 * 0 for a byte that cannot start a sequence (read it as one byte).
 */
// @ts-ignore: decorator
@unsafe
function seqLen(ptr: usize, avail: i32): i32 {
  const c0 = <u32>load<u8>(ptr);
  let n: i32;
  // The allowed range of the second byte depends on the first (Table 3-7).
  let lo: u32 = 0x80;
  let hi: u32 = 0xbf;
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    n = 2;
  } else if (c0 >= 0xe0 && c0 <= 0xef) {
    n = 3;
    if (c0 == 0xe0) lo = 0xa0;
    else if (c0 == 0xed) hi = 0x9f;
  } else if (c0 >= 0xf0 && c0 <= 0xf4) {
    n = 4;
    if (c0 == 0xf0) lo = 0x90;
    else if (c0 == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  for (let k = 1; k < n; k++) {
    if (k >= avail) return -k;
    const c = <u32>load<u8>(ptr + k);
    if (k == 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return -k;
  }
  return n;
}

/** codePoints returns the number of Unicode code points in `s`; a surrogate pair counts once. */
export function codePoints(s: string): i32 {
  let n = s.length;
  for (let i = 0, len = s.length; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < len) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n--;
        i++;
      }
    }
  }
  return n;
}
