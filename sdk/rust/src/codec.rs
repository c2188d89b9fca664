//! Binary encodings of ABI.md section 4: value lists (4.1), query results
//! (4.2) and maps (4.3). All integers are little-endian.

use crate::sys::tag;
use crate::value::{Rows, Value};

/// Why an encoded buffer could not be decoded.
pub(crate) type DecodeError = &'static str;

/// Appends the encoding of one value to `out`.
pub(crate) fn append_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.push(tag::NULL),
        Value::Int(n) => {
            out.push(tag::INT64);
            out.extend_from_slice(&n.to_le_bytes());
        }
        Value::Float(x) => {
            out.push(tag::FLOAT64);
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
        Value::Text(s) => append_bytes(out, tag::TEXT, s.as_bytes()),
        Value::Blob(b) => append_bytes(out, tag::BLOB, b),
    }
}

fn append_bytes(out: &mut Vec<u8>, t: u8, b: &[u8]) {
    out.push(t);
    append_len(out, b);
}

fn append_len(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// Encodes a value list: count:u32, then each value. An empty list encodes
/// to an empty buffer, which the host reads as "no parameters".
pub(crate) fn encode_values(vals: &[Value]) -> Vec<u8> {
    if vals.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(4 + 9 * vals.len());
    out.extend_from_slice(&(vals.len() as u32).to_le_bytes());
    for v in vals {
        append_value(&mut out, v);
    }
    out
}

/// Encodes a map from its pairs, in order (used by tests and the fake host).
#[cfg(test)]
pub(crate) fn encode_map(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    append_map(&mut out, pairs);
    out
}

/// Appends a map (ABI.md 4.3): count:u32, then each key and value.
fn append_map<K: AsRef<str>, V: AsRef<str>>(out: &mut Vec<u8>, pairs: &[(K, V)]) {
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        append_len(out, k.as_ref().as_bytes());
        append_len(out, v.as_ref().as_bytes());
    }
}

/// Encodes an `http_request` request (ABI 1.2): method, url, headers
/// (a map), body, then timeout_ms.
pub(crate) fn encode_http_request<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    url: &str,
    headers: &[(K, V)],
    body: &[u8],
    timeout_ms: u32,
) -> Vec<u8> {
    let size = 20 + method.len() + url.len() + body.len();
    let mut out = Vec::with_capacity(size + 64 * headers.len());
    append_len(&mut out, method.as_bytes());
    append_len(&mut out, url.as_bytes());
    append_map(&mut out, headers);
    append_len(&mut out, body);
    out.extend_from_slice(&timeout_ms.to_le_bytes());
    out
}

/// A decoded `http_request` response: status, headers in order (a
/// repeated name once per value), body.
pub(crate) type HttpParts = (u32, Vec<(String, String)>, Vec<u8>);

/// Decodes an `http_request` response (ABI 1.2): status:u32, headers:map,
/// then blen:u32 body.
pub(crate) fn decode_http_response(b: &[u8]) -> Result<HttpParts, DecodeError> {
    let mut r = Reader { b };
    let status = r.u32()?;
    let headers = r.pairs()?;
    let body = r.bytes()?.to_vec();
    r.finish()?;
    Ok((status, headers, body))
}

/// A cursor over an encoded buffer.
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.b.len() {
            return Err("truncated");
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    /// Reads a count, refusing one that cannot fit in what is left when each
    /// item takes at least `min` bytes (so a bad count cannot allocate much).
    fn count(&mut self, min: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n.checked_mul(min).map_or(true, |need| need > self.b.len()) {
            return Err("count exceeds remaining bytes");
        }
        Ok(n)
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    // TEXT that is not UTF-8 is decoded lossily rather than failing a whole result.
    fn string(&mut self) -> Result<String, DecodeError> {
        Ok(String::from_utf8_lossy(self.bytes()?).into_owned())
    }

    fn value(&mut self) -> Result<Value, DecodeError> {
        match self.take(1)?[0] {
            tag::NULL => Ok(Value::Null),
            tag::INT64 => Ok(Value::Int(self.u64()? as i64)),
            tag::FLOAT64 => Ok(Value::Float(f64::from_bits(self.u64()?))),
            tag::TEXT => Ok(Value::Text(self.string()?)),
            tag::BLOB => Ok(Value::Blob(self.bytes()?.to_vec())),
            _ => Err("unknown value tag"),
        }
    }

    /// Reads a map's pairs, in order.
    fn pairs(&mut self) -> Result<Vec<(String, String)>, DecodeError> {
        let n = self.count(8)?;
        (0..n)
            .map(|_| Ok((self.string()?, self.string()?)))
            .collect::<Result<Vec<_>, DecodeError>>()
    }

    fn finish(&self) -> Result<(), DecodeError> {
        if self.b.is_empty() {
            Ok(())
        } else {
            Err("trailing bytes")
        }
    }
}

/// Decodes a value list. An empty buffer is an empty list. The host never
/// sends one, so only tests use it.
#[cfg(test)]
pub(crate) fn decode_values(b: &[u8]) -> Result<Vec<Value>, DecodeError> {
    if b.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader { b };
    let n = r.count(1)?;
    let vals = (0..n).map(|_| r.value()).collect::<Result<Vec<_>, _>>()?;
    r.finish()?;
    Ok(vals)
}

/// Decodes a query result: ncols:u32, names, nrows:u32, values row by row.
pub(crate) fn decode_rows(b: &[u8]) -> Result<Rows, DecodeError> {
    let mut r = Reader { b };
    let ncols = r.count(4)?;
    let columns = (0..ncols)
        .map(|_| r.string())
        .collect::<Result<Vec<_>, _>>()?;
    let nrows = r.count(ncols.max(1))?;
    let mut rows = Vec::with_capacity(nrows);
    for _ in 0..nrows {
        rows.push(
            (0..ncols)
                .map(|_| r.value())
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    r.finish()?;
    Ok(Rows { columns, rows })
}

/// Decodes a map into its pairs, in order; a repeated key appears once per value.
pub(crate) fn decode_map(b: &[u8]) -> Result<Vec<(String, String)>, DecodeError> {
    let mut r = Reader { b };
    let pairs = r.pairs()?;
    r.finish()?;
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_golden() {
        let got = encode_values(&[
            Value::Null,
            Value::Int(-2),
            Value::Text("é".into()),
            Value::Blob(vec![]),
        ]);
        let mut want = vec![4, 0, 0, 0, 0, 1];
        want.extend_from_slice(&[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        want.extend_from_slice(&[3, 2, 0, 0, 0, 0xc3, 0xa9, 4, 0, 0, 0, 0]);
        assert_eq!(got, want);
        assert_eq!(encode_values(&[]), Vec::<u8>::new());
    }

    #[test]
    fn values_round_trip() {
        let vals = vec![
            Value::Null,
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Float(-0.5),
            Value::Float(f64::INFINITY),
            Value::Text(String::new()),
            Value::Text("héllo".into()),
            Value::Blob(vec![0, 255, 1]),
        ];
        assert_eq!(decode_values(&encode_values(&vals)).unwrap(), vals);
        assert_eq!(decode_values(&[]).unwrap(), vec![]);
    }

    #[test]
    fn values_errors() {
        let cases: &[(&str, &[u8], DecodeError)] = &[
            ("short count", &[1, 0], "truncated"),
            (
                "huge count",
                &[255, 255, 255, 255, 0],
                "count exceeds remaining bytes",
            ),
            ("short int", &[1, 0, 0, 0, 1, 0, 0], "truncated"),
            (
                "short text",
                &[1, 0, 0, 0, 3, 5, 0, 0, 0, b'a'],
                "truncated",
            ),
            ("bad tag", &[1, 0, 0, 0, 9], "unknown value tag"),
            ("trailing", &[1, 0, 0, 0, 0, 0], "trailing bytes"),
        ];
        for (name, input, want) in cases {
            assert_eq!(decode_values(input), Err(*want), "{}", name);
        }
    }

    fn rows_bytes(cols: &[&str], vals: &[Value], nrows: u32) -> Vec<u8> {
        let mut b = (cols.len() as u32).to_le_bytes().to_vec();
        for c in cols {
            append_len(&mut b, c.as_bytes());
        }
        b.extend_from_slice(&nrows.to_le_bytes());
        for v in vals {
            append_value(&mut b, v);
        }
        b
    }

    #[test]
    fn rows_decode() {
        let vals = [
            Value::Text("a".into()),
            Value::Int(1),
            Value::Text("b".into()),
            Value::Null,
        ];
        let rows = decode_rows(&rows_bytes(&["k", "v"], &vals, 2)).unwrap();
        assert_eq!(rows.columns, vec!["k", "v"]);
        assert_eq!(rows.rows, vec![vals[..2].to_vec(), vals[2..].to_vec()]);

        let empty = decode_rows(&rows_bytes(&["k"], &[], 0)).unwrap();
        assert_eq!((empty.columns.len(), empty.len()), (1, 0));

        assert_eq!(
            decode_rows(&rows_bytes(&["k"], &vals[..1], 2)),
            Err("truncated")
        );
        assert_eq!(
            decode_rows(&rows_bytes(&["k"], &vals[..2], 1)),
            Err("trailing bytes")
        );
        assert_eq!(decode_rows(&[]), Err("truncated"));
    }

    #[test]
    fn map_round_trip() {
        let pairs = [("Accept", "a"), ("Accept", "b"), ("X-Empty", "")];
        let got = decode_map(&encode_map(&pairs)).unwrap();
        let want: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(decode_map(&[0, 0, 0, 0]).unwrap(), vec![]);
        assert_eq!(
            decode_map(&[1, 0, 0, 0, 0, 0, 0, 0]),
            Err("count exceeds remaining bytes")
        );
    }
}
