;; statforger is a hand-written plugin for cmd/server's console tests: its
;; RPC forge logs the message "request" at INFO as many times as the
;; payload's little-endian u32 says, and writes as many "request" lines to
;; stdout; each of those lines ends as an access log line does
;; (`"message":"request"}`). It answers how many log calls returned OK, as
;; a u32. Build: make fixtures.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "forge")
  (data (i32.const 16) "request\n")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (call $reg (i32.const 0) (i32.const 5) (i32.const 1) (i32.const 0)))
  ;; The count is read to 32, the answer written at 40, the iovec at 48.
  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (local $i i32) (local $ok i32)
    (drop (call $in (i32.const 0) (i32.const 32) (i32.const 4)))
    (i32.store (i32.const 48) (i32.const 16))
    (i32.store (i32.const 52) (i32.const 8))
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 32))))
        (if (i32.eqz (call $log (i32.const 1) (i32.const 16) (i32.const 7)))
          (then (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))
        (drop (call $fd_write (i32.const 1) (i32.const 48) (i32.const 1) (i32.const 56)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $more)))
    (i32.store (i32.const 40) (local.get $ok))
    (drop (call $out (i32.const 40) (i32.const 4)))
    (i32.const 0)))
