use super::*;

fn round(input: &str) -> String {
    Json::parse(input)
        .unwrap_or_else(|e| panic!("{}: {}", input, e))
        .to_string()
}

#[test]
fn parse_and_write() {
    let cases = [
        ("null", "null"),
        (" true ", "true"),
        ("false", "false"),
        ("0", "0"),
        ("-0", "0"),
        ("-12", "-12"),
        ("9223372036854775807", "9223372036854775807"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("9223372036854775808", "9223372036854776000"),
        ("1.0", "1"),
        ("1.5", "1.5"),
        ("-0.0", "-0"),
        ("1e2", "100"),
        ("1E+2", "100"),
        ("1e21", "1e+21"),
        ("1.5e300", "1.5e+300"),
        ("0.000001", "0.000001"),
        ("1e-7", "1e-7"),
        ("0.1", "0.1"),
        (r#""""#, r#""""#),
        (r#""a\"b\\c\/d""#, r#""a\"b\\c/d""#),
        (r#""\b\f\n\r\t""#, r#""\b\f\n\r\t""#),
        (r#""\u0001\u001F""#, r#""\u0001\u001f""#),
        (r#""\u00e9\u4e2d""#, "\"é中\""),
        ("\"é中😀\"", "\"é中😀\""),
        (r#""\ud83d\ude00""#, "\"😀\""),
        (r#""\ud83d""#, "\"\u{FFFD}\""),
        (r#""\ude00x""#, "\"\u{FFFD}x\""),
        (r#""\ud83dA""#, "\"\u{FFFD}A\""),
        (r#""\ud83d\u0041""#, "\"\u{FFFD}A\""),
        (r#""\ud83d\ud83d\ude00""#, "\"\u{FFFD}😀\""),
        ("\"\u{2028}<&>\"", "\"\u{2028}<&>\""),
        ("[]", "[]"),
        ("[1, [2, {}], \"x\"]", "[1,[2,{}],\"x\"]"),
        ("{}", "{}"),
        (
            r#"{"b":1,"a":{"d":[],"c":null}}"#,
            r#"{"a":{"c":null,"d":[]},"b":1}"#,
        ),
        (r#"{"k":1,"k":2}"#, r#"{"k":2}"#),
        (" \t\r\n{ \"a\" : [ 1 , 2 ] } \n", r#"{"a":[1,2]}"#),
    ];
    for (input, want) in cases {
        assert_eq!(round(input), want, "input {}", input);
    }
}

#[test]
fn parse_errors() {
    let cases = [
        ("", 0, "unexpected end of input"),
        ("   ", 3, "unexpected end of input"),
        ("nul", 0, "invalid literal"),
        ("True", 0, "expected a value"),
        ("01", 2, "invalid number"),
        ("-", 1, "invalid number"),
        ("1.", 2, "invalid number"),
        (".5", 0, "expected a value"),
        ("1e", 2, "invalid number"),
        ("+1", 0, "expected a value"),
        ("1e400", 0, "number out of range"),
        ("NaN", 0, "expected a value"),
        ("[1,]", 3, "expected a value"),
        ("[1 2]", 3, "expected ',' or ']'"),
        ("{\"a\" 1}", 5, "expected ':'"),
        ("{a:1}", 1, "expected a string key"),
        ("{\"a\":1,}", 7, "expected a string key"),
        ("{\"a\":1", 6, "expected ',' or '}'"),
        ("\"abc", 4, "unterminated string"),
        ("\"a\nb\"", 2, "control character in string"),
        ("\"\\x\"", 2, "invalid escape"),
        ("\"\\u12\"", 3, "invalid \\u escape"),
        ("\"\\u12G4\"", 3, "invalid \\u escape"),
        ("1 2", 2, "unexpected data after the value"),
        ("{} x", 3, "unexpected data after the value"),
    ];
    for (input, offset, reason) in cases {
        assert_eq!(
            Json::parse(input),
            Err(ParseError { offset, reason }),
            "input {:?}",
            input
        );
    }
}

#[test]
fn depth_limit() {
    let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    assert!(Json::parse(&ok).is_ok());
    let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
    assert_eq!(Json::parse(&deep).unwrap_err().reason, "nesting too deep");
    let objs = "{\"a\":".repeat(MAX_DEPTH + 1);
    assert_eq!(Json::parse(&objs).unwrap_err().reason, "nesting too deep");
}

#[test]
fn from_slice_rejects_bad_utf8() {
    let e = Json::from_slice(b"\"a\xff\"").unwrap_err();
    assert_eq!((e.offset, e.reason), (2, "invalid UTF-8"));
    assert_eq!(
        Json::from_slice(b"[1]").unwrap(),
        Json::Array(vec![Json::Int(1)])
    );
}

#[test]
fn accessors() {
    let v = Json::parse(r#"{"s":"x","i":3,"f":2.0,"g":2.5,"b":true,"n":null,"a":[1]}"#).unwrap();
    assert_eq!(v.get("s").and_then(Json::as_str), Some("x"));
    assert_eq!(v.get("i").and_then(Json::as_i64), Some(3));
    assert_eq!(v.get("f").and_then(Json::as_i64), Some(2));
    assert_eq!(v.get("g").and_then(Json::as_i64), None);
    assert_eq!(v.get("g").and_then(Json::as_f64), Some(2.5));
    assert_eq!(v.get("b").and_then(Json::as_bool), Some(true));
    assert!(v.get("n").map_or(false, Json::is_null));
    assert_eq!(v.get("a").and_then(Json::as_array).map(Vec::len), Some(1));
    assert_eq!(v.get("missing"), None);
    assert_eq!(Json::Int(1).get("x"), None);
    assert_eq!(Json::Float(1e19).as_i64(), None);
    assert_eq!(Json::Float(i64::MIN as f64).as_i64(), Some(i64::MIN));
    assert_eq!(Json::Float(i64::MAX as f64).as_i64(), None);
}

#[test]
fn build_and_write() {
    let v = Json::object([
        ("value", Json::from(None::<&str>)),
        ("key", Json::from("a\"b\u{1}")),
        ("n", Json::from(7i64)),
        ("x", Json::Float(f64::NAN)),
    ]);
    assert_eq!(
        v.to_string(),
        r#"{"key":"a\"b\u0001","n":7,"value":null,"x":null}"#
    );
    let mut s = String::new();
    write_string(&mut s, "tab\there").unwrap();
    assert_eq!(s, r#""tab\there""#);
}

#[test]
fn float_round_trip() {
    for x in [
        0.1,
        1.0 / 3.0,
        123456.789,
        5e-324,
        1.7976931348623157e308,
        1e20,
        1e21,
        1e-6,
        9.999e-7,
    ] {
        let s = Json::Float(x).to_string();
        assert_eq!(Json::parse(&s).unwrap().as_f64(), Some(x), "{}", s);
    }
}
