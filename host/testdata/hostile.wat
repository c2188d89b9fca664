;; hostile is a hand-written test plugin: it traps, loops, recurses, grows
;; memory without bound, panics and passes out-of-bounds pointers to every
;; host function, so that the host's defences can be tested. Build with
;; `wat2wasm hostile.wat -o hostile.wasm` (make plugins does it).
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "error_set" (func $err (param i32 i32 i32) (result i32)))
  (import "warden_v1" "ctx_get" (func $ctx (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "warden_v1" "db_exec" (func $exec (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "db_query" (func $query (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "result_read" (func $rr (param i32 i32) (result i64)))
  (import "warden_v1" "last_error" (func $le (param i32 i32) (result i64)))
  (import "warden_v1" "panic" (func $panic (param i32 i32)))
  (import "warden_v1" "random_fill" (func $rand (param i32 i32) (result i32)))
  (memory (export "memory") 8)
  (global $init_status (mut i32) (i32.const 1))

  (data (i32.const 100) "trap")
  (data (i32.const 110) "loop")
  (data (i32.const 120) "grow")
  (data (i32.const 130) "panic")
  (data (i32.const 140) "oob")
  (data (i32.const 150) "recurse")
  (data (i32.const 160) "echo")
  (data (i32.const 170) "fail")
  (data (i32.const 180) "late_register")
  (data (i32.const 200) "init_status")
  (data (i32.const 220) "Server_Only")
  (data (i32.const 240) "panic_oob")
  (data (i32.const 260) "boom at hostile.wat")
  (data (i32.const 300) "trace_id")
  (data (i32.const 320) "SELECT 1")
  (data (i32.const 340) "failed on purpose")

  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    ;; an out-of-bounds id must answer INVALID_MEMORY (-3), not trap
    (global.set $init_status (call $reg (i32.const -16) (i32.const 64) (i32.const 0) (i32.const 0)))
    (drop (call $reg (i32.const 100) (i32.const 4) (i32.const 1) (i32.const 0)))
    (drop (call $reg (i32.const 110) (i32.const 4) (i32.const 2) (i32.const 0)))
    (drop (call $reg (i32.const 120) (i32.const 4) (i32.const 3) (i32.const 0)))
    (drop (call $reg (i32.const 130) (i32.const 5) (i32.const 4) (i32.const 0)))
    (drop (call $reg (i32.const 140) (i32.const 3) (i32.const 5) (i32.const 0)))
    (drop (call $reg (i32.const 150) (i32.const 7) (i32.const 6) (i32.const 0)))
    (drop (call $reg (i32.const 160) (i32.const 4) (i32.const 7) (i32.const 0)))
    (drop (call $reg (i32.const 170) (i32.const 4) (i32.const 8) (i32.const 0)))
    (drop (call $reg (i32.const 180) (i32.const 13) (i32.const 9) (i32.const 0)))
    (drop (call $reg (i32.const 200) (i32.const 11) (i32.const 10) (i32.const 0)))
    (drop (call $reg (i32.const 220) (i32.const 11) (i32.const 11) (i32.const 1)))
    (drop (call $reg (i32.const 240) (i32.const 9) (i32.const 12) (i32.const 0)))
    (i32.const 0))

  (func $recurse (call $recurse))

  ;; $echo copies the input to the output through memory at 65536.
  (func $echo (param $len i32) (result i32)
    (drop (call $in (i32.const 0) (i32.const 65536) (local.get $len)))
    (drop (call $out (i32.const 65536) (local.get $len)))
    (i32.const 0))

  ;; $grow grows memory 16 pages at a time until refused, then outputs the
  ;; final size in pages as a little-endian i32.
  (func $grow (result i32)
    (block $done
      (loop $more
        (br_if $done (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
        (br $more)))
    (i32.store (i32.const 0) (memory.size))
    (drop (call $out (i32.const 0) (i32.const 4)))
    (i32.const 0))

  ;; $put stores a host result as i64 at slot $i of the results area (1024).
  (func $put (param $i i32) (param $v i64)
    (i64.store (i32.add (i32.const 1024) (i32.mul (local.get $i) (i32.const 8))) (local.get $v)))

  ;; $oob calls host functions with out-of-bounds ranges and outputs each
  ;; result as an i64.
  (func $oob (result i32)
    (call $put (i32.const 0) (i64.extend_i32_s (call $reg (i32.const 100) (i32.const 4) (i32.const 99) (i32.const 0))))
    (call $put (i32.const 1) (i64.extend_i32_s (call $in (i32.const 0) (i32.const -16) (i32.const 64))))
    (call $put (i32.const 2) (i64.extend_i32_s (call $out (i32.const -16) (i32.const 64))))
    (call $put (i32.const 3) (i64.extend_i32_s (call $err (i32.const 3) (i32.const -16) (i32.const 64))))
    (call $put (i32.const 4) (call $ctx (i32.const -16) (i32.const 64) (i32.const 0) (i32.const 0)))
    (call $put (i32.const 5) (call $ctx (i32.const 300) (i32.const 8) (i32.const -16) (i32.const 64)))
    (call $put (i32.const 6) (i64.extend_i32_s (call $log (i32.const 1) (i32.const -16) (i32.const 64))))
    (call $put (i32.const 7) (call $exec (i32.const -16) (i32.const 64) (i32.const 0) (i32.const 0)))
    (call $put (i32.const 8) (call $exec (i32.const 320) (i32.const 8) (i32.const -16) (i32.const 64)))
    (call $put (i32.const 9) (call $query (i32.const -16) (i32.const 64) (i32.const 0) (i32.const 0)))
    (drop (call $query (i32.const 320) (i32.const 8) (i32.const 0) (i32.const 0)))
    (call $put (i32.const 10) (call $rr (i32.const -16) (i32.const 64)))
    (call $put (i32.const 11) (call $le (i32.const -16) (i32.const 64)))
    (call $put (i32.const 12) (i64.extend_i32_s (call $rand (i32.const -16) (i32.const 64))))
    (call $put (i32.const 13) (i64.extend_i32_s (call $in (i32.const 0) (i32.const 0) (i32.const 0x7fffffff))))
    (call $put (i32.const 14) (i64.extend_i32_s (call $out (i32.const 0) (i32.const -1))))
    (call $put (i32.const 15) (call $ctx (i32.const 0) (i32.const -1) (i32.const 0) (i32.const 0)))
    (drop (call $out (i32.const 1024) (i32.const 128)))
    (i32.const 0))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (if (i32.eq (local.get $id) (i32.const 1)) (then unreachable))
    (if (i32.eq (local.get $id) (i32.const 2)) (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $id) (i32.const 3)) (then (return (call $grow))))
    (if (i32.eq (local.get $id) (i32.const 4))
      (then (call $panic (i32.const 260) (i32.const 19)) unreachable))
    (if (i32.eq (local.get $id) (i32.const 5)) (then (return (call $oob))))
    (if (i32.eq (local.get $id) (i32.const 6)) (then (call $recurse)))
    (if (i32.eq (local.get $id) (i32.const 7)) (then (return (call $echo (local.get $len)))))
    (if (i32.eq (local.get $id) (i32.const 8))
      (then
        (drop (call $err (local.get $len) (i32.const 340) (i32.const 17)))
        (return (i32.const 1))))
    (if (i32.eq (local.get $id) (i32.const 9))
      (then
        (i32.store (i32.const 0) (call $reg (i32.const 100) (i32.const 4) (i32.const 1) (i32.const 0)))
        (drop (call $out (i32.const 0) (i32.const 4)))
        (return (i32.const 0))))
    (if (i32.eq (local.get $id) (i32.const 10))
      (then
        (i32.store (i32.const 0) (global.get $init_status))
        (drop (call $out (i32.const 0) (i32.const 4)))
        (return (i32.const 0))))
    (if (i32.eq (local.get $id) (i32.const 11)) (then (return (call $echo (local.get $len)))))
    (if (i32.eq (local.get $id) (i32.const 12))
      (then (call $panic (i32.const -16) (i32.const 64)) unreachable))
    (i32.const 2))
)
