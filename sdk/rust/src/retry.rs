//! Retries of a transaction that failed with DB_BUSY (ABI.md section 6):
//! the backoff and the sleep between attempts.
//!
//! The sleep goes through WASI's `poll_oneoff` (a relative clock wait),
//! which the host serves to every plugin (ABI.md section 3.8) in slices of
//! at most 50 ms; it polls again until the time has passed, so it uses no
//! CPU while it waits, and the host ends it within a slice of the call's
//! deadline. This is the crate's one import outside `warden_v1`, and a
//! plugin has it only if it uses [`crate::db::transaction`].

/// MAX_TX_ATTEMPTS bounds the attempts of [`crate::db::transaction`].
pub const MAX_TX_ATTEMPTS: u32 = 5;

/// BUSY_BACKOFF_NS is the first backoff: before attempt k+1 the transaction
/// sleeps a random time between half and all of BUSY_BACKOFF_NS·2^(k-1),
/// so 2.5-5, 5-10, 10-20 and 20-40 ms, at most 75 ms in all.
pub const BUSY_BACKOFF_NS: u64 = 5_000_000;

/// backoff returns the sleep before attempt `attempt + 1` (from 1), given
/// 32 random bits.
pub(crate) fn backoff(attempt: u32, random: u32) -> u64 {
    let d = BUSY_BACKOFF_NS << (attempt - 1);
    d / 2 + u64::from(random) % (d / 2 + 1)
}

/// random_u32 returns 32 random bits from the host.
pub(crate) fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    // SAFETY: b is a valid, writable range of its length.
    unsafe { crate::sys::random_fill(b.as_mut_ptr(), b.len()) };
    u32::from_le_bytes(b)
}

/// sleep_ns waits `ns` nanoseconds.
#[cfg(target_arch = "wasm32")]
pub(crate) fn sleep_ns(ns: u64) {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn poll_oneoff(subs: *const u8, events: *mut u8, nsubs: usize, nevents: *mut usize) -> i32;
    }
    // SAFETY: time_now takes no arguments.
    let end = unsafe { crate::sys::time_now() }.saturating_add(ns as i64);
    loop {
        // SAFETY: as above.
        let left = end - unsafe { crate::sys::time_now() };
        if left <= 0 {
            return;
        }
        // One subscription (48 bytes): userdata, tag 0 (clock) at 8, clock
        // id 1 (monotonic) at 16, relative timeout at 24, precision at 32,
        // flags 0 at 40.
        let mut sub = [0u8; 48];
        sub[16..20].copy_from_slice(&1u32.to_le_bytes());
        sub[24..32].copy_from_slice(&(left as u64).to_le_bytes());
        let mut event = [0u8; 32];
        let mut n = 0usize;
        // SAFETY: sub, event and n are valid ranges of the sizes WASI reads
        // and writes for one subscription.
        if unsafe { poll_oneoff(sub.as_ptr(), event.as_mut_ptr(), 1, &mut n) } != 0 {
            return; // no clock: retry at once rather than spin
        }
    }
}

/// sleep_ns records the sleep in the fake host instead of sleeping.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn sleep_ns(ns: u64) {
    crate::sys::native::with(|f| f.sleeps.push(ns));
}
