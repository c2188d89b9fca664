;; outflood is a hand-written plugin for cmd/server's console tests: its
;; RPC outflood takes a little-endian u32 count followed by an encoded
;; http_request (ABI.md 4.4) and sends that request count times, in one
;; call; it answers how many of them got a response, as a u32. Each
;; request is one line of the host's outbound log. Build: make fixtures.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "http_request" (func $http_request (param i32 i32) (result i64)))
  ;; 2 pages: the input at 1024 (up to 64 KiB), the answer at 16.
  (memory (export "memory") 2)
  (data (i32.const 0) "outflood")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (call $reg (i32.const 0) (i32.const 8) (i32.const 1) (i32.const 0)))
  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (local $i i32) (local $ok i32) (local $n i32)
    (if (i32.gt_u (local.get $len) (i32.const 0xF000)) (then (local.set $len (i32.const 0xF000))))
    (local.set $n (call $in (i32.const 0) (i32.const 1024) (local.get $len)))
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 1024))))
        (if (i64.ge_s (call $http_request (i32.const 1028) (i32.sub (local.get $n) (i32.const 4))) (i64.const 0))
          (then (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $more)))
    (i32.store (i32.const 16) (local.get $ok))
    (drop (call $out (i32.const 16) (i32.const 4)))
    (i32.const 0)))
