;; sleeper waits through WASI's poll_oneoff (a relative monotonic clock).
;; RPC nap: waits until 300 ms have passed, asking each poll for the time
;; left, and answers the number of polls as an i32 (little-endian): a few
;; when the host really sleeps, a great many if it spun. RPC hibernate:
;; polls for an hour, again and again; only the call's deadline ends it.
;; Build: wat2wasm sleeper.wat -o sleeper.wasm.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "time_now" (func $now (result i64)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "nap")
  (data (i32.const 32) "hibernate")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 16) (i32.const 3) (i32.const 1) (i32.const 0)))
    (call $reg (i32.const 32) (i32.const 9) (i32.const 2) (i32.const 0)))
  ;; $sleep polls once for ns: the subscription at 256 (48 bytes), the
  ;; event at 320, the event count at 352.
  (func $sleep (param $ns i64)
    (i32.store8 (i32.const 264) (i32.const 0))
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (local.get $ns))
    (i64.store (i32.const 288) (i64.const 0))
    (i32.store16 (i32.const 296) (i32.const 0))
    (drop (call $poll (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 352))))
  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (local $end i64) (local $left i64) (local $n i32)
    (if (i32.eq (local.get $id) (i32.const 2))
      (then (loop $forever (call $sleep (i64.const 3600000000000)) (br $forever))))
    (local.set $end (i64.add (call $now) (i64.const 300000000)))
    (block $done
      (loop $more
        (local.set $left (i64.sub (local.get $end) (call $now)))
        (br_if $done (i64.le_s (local.get $left) (i64.const 0)))
        (call $sleep (local.get $left))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $more)))
    (i32.store (i32.const 400) (local.get $n))
    (drop (call $out (i32.const 400) (i32.const 4)))
    (i32.const 0)))
