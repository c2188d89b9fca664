;; The guest of tests/floor: echo(n) copies the n bytes the host wrote at
;; offset 0 to offset 32768, where the host reads them back, and returns n.
;; As little as a WebAssembly echo can do; `make fixtures` builds echo.wasm.
(module
  (memory (export "memory") 1)
  (func (export "echo") (param $n i32) (result i32)
    (memory.copy (i32.const 32768) (i32.const 0) (local.get $n))
    (local.get $n)))
