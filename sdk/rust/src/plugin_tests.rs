use super::*;
use crate::sys::native;

fn echo(_: &Context, p: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(p.to_vec())
}

fn upper(_: &Context, p: &str) -> Result<String, Error> {
    Ok(p.to_uppercase())
}

fn denied(_: &Context, _: &[u8]) -> Result<Vec<u8>, Error> {
    Err(Error::new(Code::PermissionDenied, "no"))
}

fn init_ok(r: &mut Registrar) -> Result<(), Error> {
    r.rpc("Echo", echo)?;
    r.rpc_str("upper", upper)?;
    r.server_only_rpc("denied", denied)
}

fn call(id: i32, input: &[u8]) -> (i32, Vec<u8>, Option<(i32, String)>) {
    native::with(|f| {
        f.input = input.to_vec();
        f.output.clear();
        f.error = None;
    });
    let rc = handle(id, input.len() as i32);
    native::with(|f| (rc, std::mem::take(&mut f.output), f.error.take()))
}

fn reset() {
    native::with(|f| *f = native::Fake::default());
}

#[test]
fn init_registers_dense_ids() {
    reset();
    assert_eq!(init(init_ok), 0);
    let want = vec![
        ("echo".to_string(), 0, 0),
        ("upper".to_string(), 1, 0),
        ("denied".to_string(), 2, flag::SERVER_ONLY),
    ];
    assert_eq!(native::with(|f| f.registered.clone()), want);
}

#[test]
fn handle_dispatches() {
    reset();
    assert_eq!(init(init_ok), 0);
    // name, handler id, input, result, output, error set
    type Case<'a> = (
        &'a str,
        i32,
        &'a [u8],
        i32,
        &'a [u8],
        Option<(i32, &'a str)>,
    );
    let cases: &[Case] = &[
        ("OK bytes", 0, b"\xff\x00hi", 0, b"\xff\x00hi", None),
        ("OK empty", 0, b"", 0, b"", None),
        ("OK str", 1, b"abc", 0, b"ABC", None),
        (
            "ErrInvalidUTF8",
            1,
            b"\xff",
            1,
            b"",
            Some((3, "payload is not valid UTF-8")),
        ),
        ("ErrHandler", 2, b"x", 1, b"", Some((7, "no"))),
        (
            "ErrUnknownID",
            3,
            b"",
            1,
            b"",
            Some((13, "unknown handler id 3")),
        ),
        (
            "ErrNegativeID",
            -1,
            b"",
            1,
            b"",
            Some((13, "unknown handler id -1")),
        ),
    ];
    for (name, id, input, rc, out, err) in cases {
        let got = call(*id, input);
        let err = err.map(|(c, m)| (c, m.to_string()));
        assert_eq!(got, (*rc, out.to_vec(), err), "{}", name);
    }
}

fn init_dup(r: &mut Registrar) -> Result<(), Error> {
    r.rpc("a", echo)?;
    r.rpc("A", echo)
}

#[test]
fn init_failure_sets_error() {
    reset();
    assert_eq!(init(init_dup), 1);
    let (code, msg) = native::with(|f| f.error.clone()).unwrap();
    assert_eq!(code, Code::AlreadyExists as i32);
    assert_eq!(msg, "register rpc \"A\": rpc id registered already");
    // The failed registration left no handler behind.
    assert_eq!(call(1, b"").0, 1);
}

#[test]
fn init_twice_starts_over() {
    reset();
    assert_eq!(init(init_ok), 0);
    native::with(|f| f.registered.clear());
    assert_eq!(init(init_ok), 0);
    assert_eq!(call(3, b"").0, 1);
    assert_eq!(call(1, b"x").1, b"X");
}
