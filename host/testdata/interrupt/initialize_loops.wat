;; initialize_loops loops forever in _initialize: the load fails at the call
;; timeout. Build: wat2wasm initialize_loops.wat -o initialize_loops.wasm.
(module
  (memory (export "memory") 1)
  (func (export "_initialize") (loop $forever (br $forever)))
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32) (i32.const 0))
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0)))
