;; tracer is a hand-written plugin for cmd/server's sandbox tests: its RPC
;; tracer goes after the request's trace ID, which the host makes only when
;; something first asks for it. It asks for the length alone; with a buffer
;; one byte short (over a canary of 'A's, which must stay); with ranges
;; past the end of its memory and at -1; then for the whole ID, scribbles
;; over its copy and asks again; and logs a line at WARN. The output is the
;; seven i64 results, the canary's 36 bytes, then the second copy of the
;; ID. Build: make fixtures.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "ctx_get" (func $ctx (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "tracer")
  (data (i32.const 32) "trace_id")
  (data (i32.const 48) "tracer was here")
  (data (i32.const 512) "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")

  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 16) (i32.const 6) (i32.const 1) (i32.const 0)))
    (i32.const 0))

  ;; results at 1024: i64 each
  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (i64.store (i32.const 1024) (call $ctx (i32.const 32) (i32.const 8) (i32.const 512) (i32.const 0)))
    (i64.store (i32.const 1032) (call $ctx (i32.const 32) (i32.const 8) (i32.const 512) (i32.const 35)))
    (i64.store (i32.const 1040) (call $ctx (i32.const 32) (i32.const 8) (i32.const 65516) (i32.const 36)))
    (i64.store (i32.const 1048) (call $ctx (i32.const 32) (i32.const 8) (i32.const -1) (i32.const 36)))
    (i64.store (i32.const 1056) (call $ctx (i32.const 32) (i32.const 8) (i32.const 600) (i32.const 36)))
    ;; scribble over the first copy: the host's ID is not the guest's memory
    (i64.store (i32.const 600) (i64.const 0x5858585858585858))
    (i64.store (i32.const 1064) (call $ctx (i32.const 32) (i32.const 8) (i32.const 700) (i32.const 36)))
    (i64.store (i32.const 1072) (i64.extend_i32_s (call $log (i32.const 2) (i32.const 48) (i32.const 15))))
    (drop (call $out (i32.const 1024) (i32.const 56)))
    (drop (call $out (i32.const 512) (i32.const 36)))
    (drop (call $out (i32.const 700) (i32.const 36)))
    (i32.const 0))
)
