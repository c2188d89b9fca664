use super::*;
use crate::plugin::{handle, init};
use crate::sys::{flag, native};
use crate::Registrar;

fn reset() {
    native::with(|f| *f = native::Fake::default());
}

fn echo(_: &Context, p: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(p.to_vec())
}

/// Answers with what it read of the request, status 201 and a header.
fn show(_: &Context, r: &HttpRequest) -> Result<HttpResponse, Error> {
    let text = format!(
        "{} {} {} id={:?} x={:?} q={:?} body={}",
        r.method(),
        r.path(),
        r.route(),
        r.param("id"),
        r.header("X-A"),
        r.query("q"),
        r.body_str()?,
    );
    Ok(HttpResponse::text(text)
        .with_status(201)
        .header("X-Made-By", "t"))
}

fn plain(_: &Context, _: &HttpRequest) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::new(200).body("ok"))
}

fn managed(_: &Context, _: &HttpRequest) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::text("x").header("Content-Length", "1"))
}

fn bad_status(_: &Context, _: &HttpRequest) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::new(700).body("x"))
}

fn refuse(_: &Context, _: &HttpRequest) -> Result<HttpResponse, Error> {
    Err(Error::new(Code::NotFound, "no such item"))
}

fn init_web(r: &mut Registrar) -> Result<(), Error> {
    r.rpc("echo", echo)?; // 0
    r.http("/items/:id", &["GET", "POST"], show)?; // 1
    r.http_with_session("/me", &[], plain)?; // 2
    r.http("/managed", &["GET"], managed)?; // 3
    r.http("/bad", &["GET"], bad_status)?; // 4
    r.http("/refuse", &["GET"], refuse) // 5
}

type Outcome = (
    i32,
    Option<i32>,
    Vec<(String, String)>,
    Vec<u8>,
    Option<(i32, String)>,
);

/// Runs handler `id` as an HTTP call with `ctx` and `body`, and returns the
/// export's result, the status and headers set, the output and the error.
fn call_http(id: i32, ctx: &[(&str, &str)], body: &[u8]) -> Outcome {
    native::with(|f| {
        f.http = true;
        f.ctx = ctx
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
        f.input = body.to_vec();
        f.output.clear();
        f.status = None;
        f.headers.clear();
        f.error = None;
    });
    let rc = handle(id, body.len() as i32);
    native::with(|f| {
        let hs = std::mem::take(&mut f.headers);
        (
            rc,
            f.status.take(),
            hs,
            std::mem::take(&mut f.output),
            f.error.take(),
        )
    })
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn http_shares_the_handler_table() {
    reset();
    assert_eq!(init(init_web), 0);
    let (rpcs, routes) = native::with(|f| (f.registered.clone(), f.routes.clone()));
    assert_eq!(rpcs, vec![("echo".to_string(), 0, 0)]);
    let want: Vec<(String, String, i32, i32)> = vec![
        ("/items/:id".into(), "GET,POST".into(), 1, 0),
        ("/me".into(), "".into(), 2, flag::SESSION_REQUIRED),
        ("/managed".into(), "GET".into(), 3, 0),
        ("/bad".into(), "GET".into(), 4, 0),
        ("/refuse".into(), "GET".into(), 5, 0),
    ];
    assert_eq!(routes, want);
}

#[test]
fn http_register_errors() {
    reset();
    let mut r = Registrar::for_tests();
    r.http("/a", &["GET"], plain).unwrap();
    let e = r.http("/a", &["POST", "GET"], plain).unwrap_err();
    assert_eq!(e.code, Code::AlreadyExists);
    assert_eq!(
        e.message,
        "register http POST,GET \"/a\": route is registered already"
    );
    let e = r.http("a", &[], plain).unwrap_err();
    assert_eq!(e.code, Code::InvalidArgument);
    // Failed registrations leave no entry: the next id is 1.
    r.http("/a", &["POST"], plain).unwrap();
    assert_eq!(native::with(|f| f.routes[1].2), 1);
}

#[test]
fn http_handle() {
    reset();
    assert_eq!(init(init_web), 0);
    let ctx = [
        ("http_method", "POST"),
        ("http_path", "/items/42"),
        ("http_route", "/items/:id"),
        ("route.id", "42"),
        ("header.X-A", "a"),
    ];
    let text = "POST /items/42 /items/:id id=Some(\"42\") x=Some(\"a\") q=None body=hi";
    let type_hdr = ("Content-Type", TEXT_PLAIN);
    let cases: Vec<(&str, i32, &[u8], Outcome)> = vec![
        (
            "OK status header body",
            1,
            b"hi",
            (
                0,
                Some(201),
                pairs(&[type_hdr, ("X-Made-By", "t")]),
                text.into(),
                None,
            ),
        ),
        (
            "OK default status is not sent",
            2,
            b"",
            (0, None, vec![], b"ok".to_vec(), None),
        ),
        (
            "ErrBodyNotUTF8",
            1,
            b"\xff",
            (
                1,
                None,
                vec![],
                vec![],
                Some((3, "payload is not valid UTF-8".into())),
            ),
        ),
        (
            "ErrManagedHeader",
            3,
            b"",
            (
                1,
                None,
                pairs(&[type_hdr]),
                vec![],
                Some((
                    13,
                    "add header \"Content-Length\": invalid or host-managed header Content-Length"
                        .into(),
                )),
            ),
        ),
        (
            "ErrBadStatus",
            4,
            b"",
            (
                1,
                None,
                vec![],
                vec![],
                Some((13, "set status 700: status must be 200..599".into())),
            ),
        ),
        (
            "ErrHandler",
            5,
            b"",
            (1, None, vec![], vec![], Some((5, "no such item".into()))),
        ),
    ];
    for (name, id, body, want) in cases {
        assert_eq!(call_http(id, &ctx, body), want, "{}", name);
    }
}

#[test]
fn response_builders() {
    let r = HttpResponse::json(&Json::object([("a", Json::from(1))]));
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers(), [("Content-Type", "application/json")]);
    assert_eq!(r.body_bytes(), br#"{"a":1}"#);
    let r = HttpResponse::default()
        .header("A", "1")
        .header("A", "2")
        .body(vec![0u8, 1]);
    assert_eq!(r.headers(), [("A", "1"), ("A", "2")]);
    assert_eq!((r.status(), r.body_bytes()), (200, &[0u8, 1][..]));
    // text's Content-Type comes first, a second one after it, as sent.
    let r = HttpResponse::text("t")
        .header("X", "1")
        .header("Content-Type", "text/csv");
    assert_eq!(
        r.headers(),
        [
            ("Content-Type", TEXT_PLAIN),
            ("X", "1"),
            ("Content-Type", "text/csv")
        ]
    );
    assert_eq!(r, r.clone());
    assert_ne!(r, HttpResponse::text("t").header("X", "1"));
    // Equal when they send the same, however they were built.
    assert_eq!(
        HttpResponse::text("t"),
        HttpResponse::new(200)
            .header("Content-Type", TEXT_PLAIN)
            .body("t")
    );
    assert_ne!(HttpResponse::text("t"), HttpResponse::json(&Json::from("t")));
    assert_ne!(HttpResponse::text("t"), HttpResponse::text("t").with_status(201));
}

/// Counts the allocations the current thread makes, so that a test can
/// hold a builder to what it allocates while other tests run.
struct Counting;

thread_local! {
    static ALLOCS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

// SAFETY: every call is passed to the system allocator unchanged.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        std::alloc::System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        std::alloc::System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, n: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        std::alloc::System.realloc(p, l, n)
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Returns how many allocations f makes on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> usize {
    let before = ALLOCS.with(|n| n.get());
    drop(f());
    ALLOCS.with(|n| n.get()) - before
}

#[test]
fn text_allocates_only_its_body() {
    // The Content-Type of text and json is a constant: a route answering
    // with them pays no allocation for its header (each costs a malloc and
    // a free in the guest, under its loop checks).
    assert_eq!(allocations(|| HttpResponse::text("You hit it")), 1);
    let owned = String::from("made earlier");
    assert_eq!(allocations(|| HttpResponse::text(owned)), 0);
    assert_eq!(allocations(|| HttpResponse::new(204)), 0);
    // A header added by name and value still owns both, in a vector.
    assert_eq!(allocations(|| HttpResponse::new(200).header("A", "1")), 3);
}

#[test]
fn request_reads_context() {
    reset();
    native::with(|f| {
        f.ctx = vec![
            ("http_method".into(), b"GET".to_vec()),
            ("route.rest".into(), b"a/b".to_vec()),
        ]
    });
    let r = HttpRequest::read(br#"{"k":true}"#.to_vec());
    assert_eq!(
        (r.method(), r.path(), r.route()),
        ("GET".to_string(), String::new(), String::new())
    );
    assert_eq!(r.param("rest").as_deref(), Some("a/b"));
    assert_eq!(r.param("id"), None);
    assert_eq!(
        r.body_json().unwrap().get("k").and_then(Json::as_bool),
        Some(true)
    );
    let bad = HttpRequest::read(b"{".to_vec());
    assert_eq!(bad.body_json().unwrap_err().code, Code::InvalidArgument);
}
