//! Compact JSON serialization of [`Json`].

use std::fmt::{self, Write};

use super::Json;

/// Display writes compact JSON: no whitespace, sorted keys.
impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{}", b),
            Json::Int(n) => write!(f, "{}", n),
            Json::Float(x) => write_float(f, *x),
            Json::String(s) => write_string(f, s),
            Json::Array(a) => {
                f.write_char('[')?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    v.fmt(f)?;
                }
                f.write_char(']')
            }
            Json::Object(o) => {
                f.write_char('{')?;
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_string(f, k)?;
                    f.write_char(':')?;
                    v.fmt(f)?;
                }
                f.write_char('}')
            }
        }
    }
}

fn write_float(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    if !x.is_finite() {
        return f.write_str("null");
    }
    let a = x.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        // Rust prints "1e21" and "1e-7"; JSON writers print "1e+21" and "1e-7".
        let s = format!("{:e}", x);
        return match s.find('e') {
            Some(i) if !s[i + 1..].starts_with('-') => write!(f, "{}e+{}", &s[..i], &s[i + 1..]),
            _ => f.write_str(&s),
        };
    }
    write!(f, "{}", x)
}

/// write_string writes `s` as a JSON string, escaping `"`, `\` and control
/// characters. Other characters, including non-ASCII, are written as is.
pub fn write_string(w: &mut impl Write, s: &str) -> fmt::Result {
    w.write_char('"')?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        w.write_str(&s[start..i])?;
        if esc.is_empty() {
            write!(w, "\\u{:04x}", c as u32)?;
        } else {
            w.write_str(esc)?;
        }
        start = i + c.len_utf8();
    }
    w.write_str(&s[start..])?;
    w.write_char('"')
}
