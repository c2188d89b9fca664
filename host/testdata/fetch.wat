;; fetch is a hand-written test plugin for http_request (ABI 1.2). It
;; registers its rpcs under its plugin name, so that copies under other names
;; load side by side. Its rpc "<name>" takes an encoded http_request (ABI.md 4.4) as its input and calls
;; http_request with it. The output is one byte, 0 on success followed by the
;; encoded response, or 1 on failure followed by the status (i32, little
;; endian) and last_error's message. Its rpc "<name>.env" returns ctx_get("env").
;; build: wat2wasm fetch.wat -o fetch.wasm (make fixtures).
(module
  (import "warden_v1" "rpc_register" (func $rpc_register (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "input_read" (func $input_read (param i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (import "warden_v1" "ctx_get" (func $ctx_get (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "result_read" (func $result_read (param i32 i32) (result i64)))
  (import "warden_v1" "last_error" (func $last_error (param i32 i32) (result i64)))
  (import "warden_v1" "http_request" (func $http_request (param i32 i32) (result i64)))
  ;; 128 pages, 8 MiB: the input at 64 KiB (up to 960 KiB), the output from
  ;; 1 MiB - 1 (the flag byte), then the response (up to 6 MiB).
  (memory (export "memory") 128)
  (data (i32.const 0) "plugin_name")
  (data (i32.const 16) "env")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (local $n i32)
    (local.set $n (i32.wrap_i64 (call $ctx_get (i32.const 0) (i32.const 11) (i32.const 256) (i32.const 64))))
    (drop (call $rpc_register (i32.const 256) (local.get $n) (i32.const 1) (i32.const 0)))
    (i32.store (i32.add (i32.const 256) (local.get $n)) (i32.const 0x766e652e)) ;; ".env"
    (call $rpc_register (i32.const 256) (i32.add (local.get $n) (i32.const 4)) (i32.const 2) (i32.const 0)))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (local $r i64) (local $n i64)
    (if (i32.eq (local.get $id) (i32.const 2))
      (then
        (local.set $n (call $ctx_get (i32.const 16) (i32.const 3) (i32.const 1024) (i32.const 60000)))
        (drop (call $output_write (i32.const 1024) (i32.wrap_i64 (local.get $n))))
        (return (i32.const 0))))
    (if (i32.gt_u (local.get $len) (i32.const 0xF0000)) (then (local.set $len (i32.const 0xF0000))))
    (drop (call $input_read (i32.const 0) (i32.const 0x10000) (local.get $len)))
    (local.set $r (call $http_request (i32.const 0x10000) (local.get $len)))
    (if (i64.lt_s (local.get $r) (i64.const 0))
      (then
        (i32.store8 (i32.const 1024) (i32.const 1))
        (i32.store (i32.const 1025) (i32.wrap_i64 (local.get $r)))
        (local.set $n (call $last_error (i32.const 1029) (i32.const 8000)))
        (drop (call $output_write (i32.const 1024) (i32.add (i32.const 5) (i32.wrap_i64 (local.get $n)))))
        (return (i32.const 0))))
    (i32.store8 (i32.const 0xFFFFF) (i32.const 0))
    (local.set $n (call $result_read (i32.const 0x100000) (i32.const 0x600000)))
    (drop (call $output_write (i32.const 0xFFFFF) (i32.add (i32.const 1) (i32.wrap_i64 (local.get $n)))))
    (i32.const 0))
)
