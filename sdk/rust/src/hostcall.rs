//! Helpers shared by the safe wrappers: the buffer convention (ABI.md 1.1,
//! rule 4) and the message of the last failed host call.

use crate::sys::{self, status};

/// Reads a variable-size value with the buffer convention.
///
/// `call(dst_ptr, dst_cap)` is a host function that returns the value's full
/// length, writing it only when it fits, or a (negative) status. The first
/// attempt uses a small buffer, so short values take one host call; longer
/// ones take two.
///
/// # Errors
///
/// Returns the (negative) status when the host call fails.
pub(crate) fn read_buffer(mut call: impl FnMut(*mut u8, usize) -> i64) -> Result<Vec<u8>, i32> {
    let mut buf: Vec<u8> = Vec::with_capacity(128);
    // The length only changes between attempts if the host misbehaves; give up then.
    for _ in 0..3 {
        let cap = buf.capacity();
        let n = call(buf.as_mut_ptr(), cap);
        if n < 0 {
            return Err(i32::try_from(n).unwrap_or(status::INTERNAL));
        }
        let n = usize::try_from(n).map_err(|_| status::LIMIT_EXCEEDED)?;
        if n <= cap {
            // SAFETY: the host wrote n <= capacity bytes at buf's pointer.
            unsafe { buf.set_len(n) };
            return Ok(buf);
        }
        buf.reserve_exact(n);
    }
    Err(status::INTERNAL)
}

/// Returns the host's message for the most recent failed host call in this
/// call, or the status name of `st` when the host gives none.
pub(crate) fn last_error_or(st: i32) -> String {
    // SAFETY: last_error writes at most cap bytes at ptr.
    match read_buffer(|ptr, cap| unsafe { sys::last_error(ptr, cap) }) {
        Ok(m) if !m.is_empty() => String::from_utf8_lossy(&m).into_owned(),
        _ => status::name(st).to_string(),
    }
}
