// The Rust SDK's number conversions, as a filter for sdk.test.mjs: each
// input line is a double's bits in hex (print it as warden::json's
// write_float does) or "P <decimal>" (parse it as warden::json does, with
// str::parse::<f64>, and print the bits). Built with Debian's Rust 1.63,
// the compiler of the Rust SDK and plugins.
use std::io::{self, BufRead, Write};

// A copy of sdk/rust/src/json/write.rs's write_float.
fn write_float(x: f64) -> String {
    if !x.is_finite() {
        return "null".into();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let s = format!("{:e}", x);
        return match s.find('e') {
            Some(i) if !s[i + 1..].starts_with('-') => format!("{}e+{}", &s[..i], &s[i + 1..]),
            _ => s,
        };
    }
    format!("{}", x)
}

fn main() {
    let stdin = io::stdin();
    let mut out = io::BufWriter::new(io::stdout());
    for line in stdin.lock().lines() {
        let l = line.unwrap();
        if let Some(d) = l.strip_prefix("P ") {
            writeln!(out, "{:016x}", d.parse::<f64>().unwrap().to_bits()).unwrap();
        } else {
            let bits = u64::from_str_radix(&l, 16).unwrap();
            writeln!(out, "{}", write_float(f64::from_bits(bits))).unwrap();
        }
    }
}
