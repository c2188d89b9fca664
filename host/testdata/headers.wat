;; headers is a hand-written test plugin whose route GET /headers answers
;; "ok" with five response headers: more than fit in a call's room for
;; them, one name twice (X-A), and one that Warden already set on every
;; response (Cache-Control). Build: wat2wasm headers.wat -o headers.wasm.
(module
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "output_add_header" (func $header (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  (data (i32.const 100) "/headers")
  (data (i32.const 110) "GET")
  (data (i32.const 120) "ok")
  (data (i32.const 130) "X-A")
  (data (i32.const 140) "1")
  (data (i32.const 150) "x-b")
  (data (i32.const 160) "2")
  (data (i32.const 170) "3")
  (data (i32.const 180) "Cache-Control")
  (data (i32.const 200) "private")
  (data (i32.const 210) "Content-Type")
  (data (i32.const 230) "text/plain; charset=utf-8")

  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (drop (call $route (i32.const 100) (i32.const 8) (i32.const 110) (i32.const 3) (i32.const 1) (i32.const 0)))
    (i32.const 0))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (drop (call $header (i32.const 130) (i32.const 3) (i32.const 140) (i32.const 1)))
    (drop (call $header (i32.const 150) (i32.const 3) (i32.const 160) (i32.const 1)))
    (drop (call $header (i32.const 130) (i32.const 3) (i32.const 170) (i32.const 1)))
    (drop (call $header (i32.const 180) (i32.const 13) (i32.const 200) (i32.const 7)))
    (drop (call $header (i32.const 210) (i32.const 12) (i32.const 230) (i32.const 25)))
    (drop (call $out (i32.const 120) (i32.const 2)))
    (i32.const 0))
)
