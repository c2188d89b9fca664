;; init_loops loops forever in warden_init: its load lasts until the call
;; timeout, unless the host is closed. Build: wat2wasm init_loops.wat -o init_loops.wasm.
(module
  (memory (export "memory") 1)
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (loop $forever (br $forever))
    (i32.const 0))
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0)))
