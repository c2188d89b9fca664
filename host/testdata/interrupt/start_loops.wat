;; start_loops loops forever in its start section. The host moves the start
;; function to an export and runs it first in the init phase, under the
;; call timeout: the load fails at the deadline instead of hanging in
;; instantiation. Build: wat2wasm start_loops.wat -o start_loops.wasm.
(module
  (memory (export "memory") 1)
  (func $start (loop $forever (br $forever)))
  (start $start)
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32) (i32.const 0))
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0)))
