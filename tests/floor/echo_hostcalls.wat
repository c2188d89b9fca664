;; The guest of tests/floor -hostcalls: echo(n) asks the host for the n
;; input bytes (in), hands them back (out) and returns n, two host calls
;; per request as Warden's echo makes (input_read, output_write). `make
;; fixtures` builds echo_hostcalls.wasm.
(module
  (import "env" "in" (func $in (param i32 i32) (result i32)))
  (import "env" "out" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "echo") (param $n i32) (result i32)
    (local $m i32)
    (local.set $m (call $in (i32.const 0) (local.get $n)))
    (drop (call $out (i32.const 0) (local.get $m)))
    (local.get $m)))
