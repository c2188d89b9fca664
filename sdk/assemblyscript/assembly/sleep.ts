// sleepNs: a wait that uses no CPU, through WASI's poll_oneoff (a relative
// clock wait), which the host serves to every plugin (ABI.md 3.8) in
// slices of at most 50 ms, so that it ends within a slice of the call's
// deadline. It is the SDK's one import outside warden_v1, and a plugin has
// it only if it uses db.transaction.

import { time_now } from "./env";

@external("wasi_snapshot_preview1", "poll_oneoff")
declare function poll_oneoff(subs: usize, events: usize, nsubs: usize, nevents: usize): i32;

// One subscription (48 bytes), its event (32) and the event count (4).
const SUB: usize = memory.data(48, 8);
const EVENT: usize = memory.data(32, 8);
const NEVENTS: usize = memory.data(4, 4);

/** sleepNs waits `ns` nanoseconds, polling again until they have passed. */
export function sleepNs(ns: u64): void {
  const end = time_now() + <i64>ns;
  for (let left = end - time_now(); left > 0; left = end - time_now()) {
    memory.fill(SUB, 0, 48);
    store<u32>(SUB + 16, 1); // clock id: monotonic (tag 0, clock, at 8)
    store<u64>(SUB + 24, <u64>left); // relative timeout
    if (poll_oneoff(SUB, EVENT, 1, NEVENTS) != 0) return; // no clock: retry at once rather than spin
  }
}
