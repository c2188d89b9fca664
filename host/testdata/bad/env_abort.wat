;; env_abort imports env.abort as AssemblyScript does when a plugin is built
;; without the SDK's asconfig.json, which routes abort to warden_v1.panic.
(module
  (import "env" "abort" (func (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32) (i32.const 0))
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0)))
