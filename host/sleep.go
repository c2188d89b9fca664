package host

import "time"

// maxSleepSlice bounds one sleep of WASI's poll_oneoff (a clock wait): a
// longer wait returns early, and the guest polls again (Go's runtime does;
// the SDKs' sleeps do). wazero's sleep cannot be interrupted, so the slice
// bounds how long a sleeping plugin outlives its call's deadline: the
// instance closes at the deadline, and its next call into the host ends it.
const maxSleepSlice = 50 * time.Millisecond

// sleepSlice is the instances' nanosleep: a real sleep of ns, at most
// maxSleepSlice. Without it wazero's default returns at once, and a
// guest waiting for time to pass spins on poll_oneoff.
func sleepSlice(ns int64) { time.Sleep(min(time.Duration(ns), maxSleepSlice)) }
