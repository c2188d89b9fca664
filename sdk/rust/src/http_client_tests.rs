use super::*;
use crate::sys::native;

fn reset(answer: Option<Result<Vec<u8>, (i32, String)>>) {
    native::with(|f| {
        *f = native::Fake::default();
        f.http_answer = answer;
    });
}

fn sent() -> Vec<Vec<u8>> {
    native::with(|f| f.http_requests.clone())
}

fn le(n: u32) -> Vec<u8> {
    n.to_le_bytes().to_vec()
}

/// A length-prefixed field.
fn field(b: &[u8]) -> Vec<u8> {
    let mut out = le(b.len() as u32);
    out.extend_from_slice(b);
    out
}

/// An encoded response, built by hand from ABI 1.2's layout.
fn response(st: u32, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut b = le(st);
    b.extend(codec::encode_map(headers));
    b.extend(field(body));
    b
}

#[test]
fn request_encoding() {
    reset(Some(Ok(response(204, &[], b""))));
    let r = request(
        "PUT",
        "http://127.0.0.1:8080/x?q=1",
        &[("X-A", "1"), ("X-A", "2")],
        b"body",
        Some(Duration::from_millis(1500)),
    )
    .unwrap();
    assert_eq!(r.status(), 204);
    let mut want = field(b"PUT");
    want.extend(field(b"http://127.0.0.1:8080/x?q=1"));
    want.extend(le(2));
    for v in ["1", "2"] {
        want.extend(field(b"X-A"));
        want.extend(field(v.as_bytes()));
    }
    want.extend(field(b"body"));
    want.extend(le(1500));
    assert_eq!(sent(), vec![want]);
}

#[test]
fn get_and_post_helpers() {
    reset(Some(Ok(response(200, &[], b""))));
    get("http://h/").unwrap();
    post("http://h/p", "application/json", b"{}").unwrap();
    let mut get_req = field(b"GET");
    get_req.extend(field(b"http://h/"));
    get_req.extend(le(0)); // no headers
    get_req.extend(field(b""));
    get_req.extend(le(0)); // the configured timeout
    let mut post_req = field(b"POST");
    post_req.extend(field(b"http://h/p"));
    post_req.extend(codec::encode_map(&[("Content-Type", "application/json")]));
    post_req.extend(field(b"{}"));
    post_req.extend(le(0));
    assert_eq!(sent(), vec![get_req, post_req]);
}

#[test]
fn timeout_on_the_wire() {
    assert_eq!(timeout_ms(None), 0);
    assert_eq!(timeout_ms(Some(Duration::from_micros(10))), 1);
    assert_eq!(timeout_ms(Some(Duration::from_secs(3))), 3000);
    assert_eq!(timeout_ms(Some(Duration::from_secs(1 << 40))), u32::MAX);
}

#[test]
fn response_decoding_and_header_lookup() {
    let headers = [
        ("content-type", "text/plain"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
    ];
    reset(Some(Ok(response(404, &headers, "nöpe".as_bytes()))));
    let r = get("https://example.com/").unwrap();
    assert_eq!(r.status(), 404, "a 4xx is a response, not an error");
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    assert_eq!(r.header("SET-COOKIE"), Some("a=1"));
    assert_eq!(
        r.header_values("Set-Cookie").collect::<Vec<_>>(),
        ["a=1", "b=2"]
    );
    assert_eq!(r.header("x-missing"), None);
    assert_eq!(r.headers().len(), 3);
    assert_eq!(r.text(), "nöpe");
    assert_eq!(r.into_body(), "nöpe".as_bytes());
    assert!(
        native::with(|f| f.slot_is_empty()),
        "the result slot was read"
    );
}

#[test]
fn bad_response_is_internal() {
    let mut truncated = response(200, &[], b"abc");
    truncated.pop();
    let mut trailing = response(200, &[], b"abc");
    trailing.push(0);
    for (name, b, why) in [
        ("truncated", truncated, "truncated"),
        ("trailing", trailing, "trailing bytes"),
        ("empty", Vec::new(), "truncated"),
    ] {
        reset(Some(Ok(b)));
        let e = get("http://h/").unwrap_err();
        assert_eq!(e.status(), status::INTERNAL, "{}", name);
        assert_eq!(
            e.message(),
            format!("decode http_request response: {}", why),
            "{}",
            name
        );
    }
}

#[test]
fn errors_carry_status_message_and_code() {
    let cases = [
        (status::NOT_GRANTED, "NOT_GRANTED", Code::PermissionDenied),
        (status::HTTP_FAILED, "HTTP_FAILED", Code::Unavailable),
        (status::CANCELLED, "CANCELLED", Code::DeadlineExceeded),
        (
            status::LIMIT_EXCEEDED,
            "LIMIT_EXCEEDED",
            Code::ResourceExhausted,
        ),
        (status::BAD_ARGUMENT, "BAD_ARGUMENT", Code::Internal),
        (status::NOT_ALLOWED, "NOT_ALLOWED", Code::Internal),
    ];
    for (st, name, code) in cases {
        let msg = format!("host says {}", name);
        reset(Some(Err((st, msg.clone()))));
        let e = request("GET", "http://h/", &[("A", "b")], b"", None).unwrap_err();
        assert_eq!((e.status(), e.message()), (st, msg.as_str()));
        assert_eq!(e.to_string(), format!("{}: {}", name, msg));
        assert_eq!(e.is_not_granted(), st == status::NOT_GRANTED);
        assert_eq!(e.is_http_failed(), st == status::HTTP_FAILED);
        assert_eq!(e.is_cancelled(), st == status::CANCELLED);
        assert_eq!(e.is_limit_exceeded(), st == status::LIMIT_EXCEEDED);
        let rpc: crate::Error = e.into();
        assert_eq!(rpc.code, code, "{}", name);
        assert_eq!(rpc.message, format!("{}: {}", name, msg));
    }
}

#[test]
fn not_granted_by_default() {
    reset(None);
    let e = get("http://evil.example/").unwrap_err();
    assert!(e.is_not_granted());
    assert!(e.message().contains("not allowed by the grants"), "{}", e);
}
